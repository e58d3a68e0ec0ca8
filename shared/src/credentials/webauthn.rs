//! Security keys (WebAuthn) through webauthn-rs. The relying party id and origin come from
//! configuration; ceremony states stay server-side, in the session item (`auth::ceremony`).

use crate::config::{Config, ConfigError};
use crate::domain::{SecurityKey, SecurityKeys, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    AuthenticationResult, Passkey, PasskeyAuthentication, PasskeyRegistration, Url, Uuid,
};
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
        .filter_map(|k| serde_json::from_value(k.passkey.clone()).ok())
        .collect()
}

/// A key's id as the account page shows it: its credential id, base64url.
pub fn key_id(passkey: &Passkey) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(passkey.cred_id().as_ref())
}

/// `keys` with a newly registered one named `name`, registered at `now`.
pub fn with_new_key(keys: &SecurityKeys, passkey: &Passkey, name: &str, now: i64) -> SecurityKeys {
    let mut all = keys.0.clone();
    all.push(SecurityKey {
        id: key_id(passkey),
        name: name.to_owned(),
        created_at: now,
        last_used_at: None,
        passkey: serde_json::to_value(passkey).unwrap_or_default(),
    });
    SecurityKeys(all)
}

/// `keys` after a sign-in with one of them: its counter (clone detection) and its last use.
pub fn after_use(keys: &SecurityKeys, result: &AuthenticationResult, now: i64) -> SecurityKeys {
    SecurityKeys(
        keys.0
            .iter()
            .map(|k| {
                let mut k = k.clone();
                if let Ok(mut pk) = serde_json::from_value::<Passkey>(k.passkey.clone()) {
                    if pk.cred_id() == result.cred_id() {
                        pk.update_credential(result);
                        k.passkey = serde_json::to_value(&pk).unwrap_or(k.passkey);
                        k.last_used_at = Some(now);
                        if k.id.is_empty() {
                            k.id = key_id(&pk);
                        }
                    }
                }
                k
            })
            .collect(),
    )
}
