//! Second-factor guessing, limited per user (ASVS 5 §6.3.1), for the MFA check at sign-in and
//! the code that confirms an authenticator app; and opening a sealed TOTP seed.

use super::throttle::{retry_after, Counter, MFA};
use crate::domain::Timestamp;
use crate::http::ApiError;
use crate::store::throttle::ThrottleKey;
use crate::store::UserRecord;
use crate::AppState;

fn store_err(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal("second-factor throttle failed", &e)
}

/// The user's guess counter, read once per request.
pub struct MfaGuesses {
    key: ThrottleKey,
    seen: Counter,
}

impl MfaGuesses {
    /// Refuses with 429 while the user's guesses are locked.
    pub async fn check(
        state: &AppState,
        user: &UserRecord,
        now: Timestamp,
    ) -> Result<Self, ApiError> {
        let key = ThrottleKey::new("mfa", user.id.as_str());
        let seen = state
            .store
            .get_counters(&[&key])
            .await
            .map_err(store_err)?
            .pop()
            .unwrap_or_default();
        if let Some(wait) = retry_after(&seen, now) {
            return Err(ApiError::throttled(wait));
        }
        Ok(Self { key, seen })
    }

    pub async fn failed(self, state: &AppState, now: Timestamp) -> Result<(), ApiError> {
        state
            .store
            .record_failure(&self.key, &MFA, now, Some(self.seen))
            .await
            .map(|_| ())
            .map_err(store_err)
    }

    /// A right guess starts the count afresh (no request when there was nothing to forget).
    pub async fn succeeded(self, state: &AppState) -> Result<(), ApiError> {
        if self.seen.failures == 0 {
            return Ok(());
        }
        state
            .store
            .clear_counter(&self.key)
            .await
            .map_err(store_err)
    }
}

/// The TOTP seed sealed for `user`, opened with the service's data key.
pub async fn open_seed(
    state: &AppState,
    sealed: &str,
    user: &UserRecord,
) -> Result<Vec<u8>, ApiError> {
    let key = state
        .data_key()
        .await
        .map_err(|e| ApiError::internal("data key", &e))?;
    key.open(sealed, user.id.as_str())
        .map_err(|e| ApiError::internal("totp seed", &e))
}
