//! The operator's registry of first-party apps for Porter's OpenID provider (`porterctl
//! client …`, and `make dev`'s demo app): names and redirect URIs are checked, a confidential
//! client's secret is drawn here, handed out once, and only its hash is stored.

use crate::domain::oauth::{check_redirect_uri, new_secret, ClientRecord};
use crate::domain::{ClientId, Timestamp};
use crate::store::StoreError;
use crate::AppState;
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Invalid(String),
    #[error("no client {0}")]
    NotFound(ClientId),
    #[error("client {0} is public: it has no secret to rotate")]
    Public(ClientId),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `porterctl client create` asks for.
pub struct NewClient {
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// A browser or mobile app: no secret; PKCE is required.
    pub public: bool,
}

/// Registers an app; its secret (for a confidential client) is returned once.
pub async fn register(
    state: &AppState,
    new: NewClient,
    now: Timestamp,
) -> Result<(ClientRecord, Option<SecretString>), ClientError> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(ClientError::Invalid(
            "the name must be 1 to 80 printable characters".into(),
        ));
    }
    if new.redirect_uris.is_empty() {
        return Err(ClientError::Invalid(
            "give at least one --redirect-uri".into(),
        ));
    }
    let check = |uris: Vec<String>| -> Result<Vec<String>, ClientError> {
        uris.iter()
            .map(|u| check_redirect_uri(u).map_err(ClientError::Invalid))
            .collect()
    };
    let mut rng = rand::rngs::OsRng;
    let (secret, hash) = match new.public {
        true => (None, None),
        false => {
            let (s, h) = new_secret(&mut rng);
            (Some(s), Some(h))
        }
    };
    let client = ClientRecord {
        id: ClientId::generate(&mut rng),
        name,
        redirect_uris: check(new.redirect_uris)?,
        post_logout_redirect_uris: check(new.post_logout_redirect_uris)?,
        secret_hash: hash,
        created_at: now,
    };
    state.store.put_client(&client).await?;
    Ok((client, secret))
}

/// A new secret for a confidential client; the old one stops working at once.
pub async fn rotate_secret(state: &AppState, id: &ClientId) -> Result<SecretString, ClientError> {
    let client = state
        .store
        .get_client(id)
        .await?
        .ok_or_else(|| ClientError::NotFound(id.clone()))?;
    if client.is_public() {
        return Err(ClientError::Public(id.clone()));
    }
    let (secret, hash) = new_secret(&mut rand::rngs::OsRng);
    if !state.store.set_client_secret(id, &hash).await? {
        return Err(ClientError::NotFound(id.clone()));
    }
    Ok(secret)
}
