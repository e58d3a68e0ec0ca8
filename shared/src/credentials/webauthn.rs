//! Security keys (WebAuthn) through webauthn-rs. The relying party id and origin come from
//! configuration; ceremony states stay server-side, in the session item (`auth::ceremony`).

use crate::config::{Config, ConfigError};
use crate::domain::{SecurityKeys, UserId};
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

/// The stored keys as webauthn-rs works with them (an unreadable entry is skipped: it could
/// not sign anything anyway).
pub fn passkeys(keys: &SecurityKeys) -> Vec<Passkey> {
    keys.0
        .iter()
        .filter_map(|k| serde_json::from_value(k.clone()).ok())
        .collect()
}

/// The keys to store.
pub fn security_keys(keys: &[Passkey]) -> SecurityKeys {
    SecurityKeys(
        keys.iter()
            .filter_map(|k| serde_json::to_value(k).ok())
            .collect(),
    )
}
