//! Security keys (WebAuthn) through webauthn-rs. The relying party id and origin come from
//! configuration; ceremony states stay server-side, in the session item.

use crate::config::{Config, ConfigError};
use crate::domain::UserId;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{Passkey, PasskeyAuthentication, PasskeyRegistration, Url, Uuid};
pub use webauthn_rs::Webauthn;

pub fn build(config: &Config) -> Result<Webauthn, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        name: "PORTER_WEBAUTHN_RP_ID",
        reason,
    };
    let origin = Url::parse(&config.public_origin()).map_err(|e| invalid(e.to_string()))?;
    webauthn_rs::WebauthnBuilder::new(&config.webauthn_rp_id, &origin)
        .map_err(|e| invalid(e.to_string()))?
        .rp_name(&config.product_name)
        .build()
        .map_err(|e| invalid(e.to_string()))
}

/// The stable WebAuthn user handle of a user: derived, so nothing more needs storing.
pub fn user_handle(uid: &UserId) -> Uuid {
    let digest = Sha256::digest(uid.as_str().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// A ceremony in progress, kept in the session item between options and finish.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", content = "state", rename_all = "lowercase")]
pub enum Ceremony {
    Register(PasskeyRegistration),
    Login(PasskeyAuthentication),
}

impl Ceremony {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &str) -> Option<Self> {
        serde_json::from_str(s).ok()
    }
}

pub fn keys_from_json(s: Option<&str>) -> Vec<Passkey> {
    s.and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

pub fn keys_to_json(keys: &[Passkey]) -> String {
    serde_json::to_string(keys).unwrap_or_else(|_| "[]".into())
}

/// Keeps `ceremony` in the caller's session (server-side) and answers the browser with the
/// options it needs to run it.
pub async fn begin(
    state: &crate::AppState,
    caller: &super::session::Caller,
    ceremony: Ceremony,
    options: &impl Serialize,
) -> Result<crate::http::Response<crate::http::Body>, crate::http::ApiError> {
    state
        .store
        .touch_session(
            &caller.session.hash,
            crate::domain::Timestamp::now(),
            Some(&ceremony.to_json()),
        )
        .await
        .map_err(|e| crate::http::ApiError::internal("webauthn ceremony not stored", &e))?;
    Ok(crate::http::json(http::StatusCode::OK, options))
}

/// The ceremony the caller's session holds, if any.
pub fn current(caller: &super::session::Caller) -> Option<Ceremony> {
    caller
        .session
        .ceremony
        .as_deref()
        .and_then(Ceremony::from_json)
}
