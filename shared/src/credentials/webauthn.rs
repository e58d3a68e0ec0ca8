//! Security keys (WebAuthn) through webauthn-rs. The relying party id and origin come from
//! configuration; ceremony states stay server-side, in the session item (`auth::ceremony`).

use crate::config::{Config, ConfigError};
use crate::domain::{SecurityKey, SecurityKeys, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{
    AuthenticationResult, CreationChallengeResponse, CredentialID, DiscoverableAuthentication,
    DiscoverableKey, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, RequestChallengeResponse, Url, Uuid, WebauthnError,
};
pub use webauthn_rs::Webauthn;
use webauthn_rs_proto::ResidentKeyRequirement;

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
    /// A passkey's registration: a discoverable credential, asked for as such.
    RegisterPasskey(PasskeyRegistration),
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

/// `keys` with a newly registered one named `name`, registered at `now`; `discoverable`: a
/// passkey, which signs in on its own.
pub fn with_new_key(
    keys: &SecurityKeys,
    passkey: &Passkey,
    name: &str,
    discoverable: bool,
    now: i64,
) -> SecurityKeys {
    let mut all = keys.0.clone();
    all.push(SecurityKey {
        id: key_id(passkey),
        name: name.to_owned(),
        created_at: now,
        last_used_at: None,
        passkey: serde_json::to_value(passkey).unwrap_or_default(),
        discoverable,
    });
    SecurityKeys(all)
}

/// Creation options for `uid`'s key, and the state that checks its answer. A passkey
/// (`discoverable`) is asked for as a discoverable credential (`residentKey: required`);
/// every key must verify its user (webauthn-rs asks for and checks `userVerification:
/// required`).
pub fn registration_options(
    webauthn: &Webauthn,
    uid: &UserId,
    email: &str,
    existing: &SecurityKeys,
    discoverable: bool,
) -> Result<(CreationChallengeResponse, Ceremony), WebauthnError> {
    let exclude: Vec<CredentialID> = passkeys(existing)
        .iter()
        .map(|k| k.cred_id().clone())
        .collect();
    let (mut options, state) =
        webauthn.start_passkey_registration(user_handle(uid), email, email, Some(exclude))?;
    if !discoverable {
        return Ok((options, Ceremony::Register(state)));
    }
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    Ok((options, Ceremony::RegisterPasskey(state)))
}

/// Whether the browser said the new credential is not discoverable (the `credProps`
/// extension's `rk: false`): then it cannot sign in without an address, and is no passkey.
/// Browsers that do not say are trusted (the authenticator was asked for one).
pub fn says_not_discoverable(credential: &RegisterPublicKeyCredential) -> bool {
    credential
        .extensions
        .cred_props
        .as_ref()
        .is_some_and(|p| p.rk == Some(false))
}

/// The challenge a sign-in answer says it answers (from its client data, where it is
/// base64url), as bytes; `None` when the client data cannot be read. Only a lookup key: the
/// signature over it is checked against the stored state afterwards.
pub fn answered_challenge(credential: &PublicKeyCredential) -> Option<Vec<u8>> {
    use base64::Engine;
    #[derive(Deserialize)]
    struct ClientData {
        challenge: String,
    }
    let raw: &[u8] = credential.response.client_data_json.as_ref();
    let c = serde_json::from_slice::<ClientData>(raw).ok()?.challenge;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim_end_matches('='))
        .ok()
}

/// A discoverable sign-in's options (no `allowCredentials`, user verification required), the
/// challenge's bytes (what finds the state again) and the state, serialised for the store.
pub fn discoverable_options(
    webauthn: &Webauthn,
) -> Result<(RequestChallengeResponse, Vec<u8>, String), WebauthnError> {
    let (options, state) = webauthn.start_discoverable_authentication()?;
    let challenge: &[u8] = options.public_key.challenge.as_ref();
    let challenge = challenge.to_vec();
    let state = serde_json::to_string(&state).map_err(WebauthnError::ParseJSONFailure)?;
    Ok((options, challenge, state))
}

/// A discoverable sign-in's state as [`discoverable_options`] serialised it.
pub fn discoverable_state(raw: &str) -> Option<DiscoverableAuthentication> {
    serde_json::from_str(raw).ok()
}

/// The passkey of `keys` with credential id `cred_id` (base64url), as webauthn-rs checks a
/// discoverable sign-in with it; a security key that is not a passkey is not one.
pub fn discoverable_key(keys: &SecurityKeys, cred_id: &str) -> Option<DiscoverableKey> {
    keys.0
        .iter()
        .filter(|k| k.discoverable && k.id == cred_id)
        .find_map(|k| serde_json::from_value::<Passkey>(k.passkey.clone()).ok())
        .map(|p| DiscoverableKey::from(&p))
}

/// The credential id of a sign-in answer, base64url, as keys are named.
pub fn answer_key_id(credential: &PublicKeyCredential) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(credential.get_credential_id())
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
