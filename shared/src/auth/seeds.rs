//! TOTP seeds at rest: sealed with the service's data key (AES-256-GCM, bound to the user's
//! id), opened only to check a code.

use crate::domain::{SealedSeed, UserRecord};
use crate::http::ApiError;
use crate::AppState;

/// A fresh TOTP seed sealed for `user` (bound to their id) with the service's data key.
pub async fn seal_seed(
    state: &AppState,
    seed: &[u8],
    user: &UserRecord,
) -> Result<SealedSeed, ApiError> {
    let key = state.data_key().await?;
    let sealed = key.seal(seed, user.id.as_str(), &mut rand::rngs::OsRng);
    Ok(SealedSeed::new(sealed))
}

/// The TOTP seed sealed for `user`, opened with the service's data key.
pub async fn open_seed(
    state: &AppState,
    seed: &SealedSeed,
    user: &UserRecord,
) -> Result<Vec<u8>, ApiError> {
    let key = state.data_key().await?;
    key.open(seed.as_str(), user.id.as_str())
        .map_err(|e| ApiError::internal("totp seed", &e))
}
