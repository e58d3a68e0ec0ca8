//! A software passkey for the integration tests (webauthn-authenticator-rs's SoftPasskey,
//! acting as the browser and the key). SoftPasskey keeps no discoverable credentials, so the
//! helpers play the browser's part of a discoverable sign-in: they point the key at the
//! passkey it holds and hand back the user handle it was registered with (both outside what
//! the key signs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::{Answer, Browser, BASE_URL};
use serde_json::{json, Value};
use url::Url;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::Base64UrlSafeData;
use webauthn_rs_proto::{AllowCredentials, CreationChallengeResponse, RequestChallengeResponse};

pub fn origin() -> Url {
    Url::parse(BASE_URL).unwrap()
}

/// A software key, and what a browser would know of the passkey it holds once registered.
pub struct Held {
    pub key: WebauthnAuthenticator<SoftPasskey>,
    pub cred_id: Option<Base64UrlSafeData>,
    pub user_handle: Option<Base64UrlSafeData>,
}

pub fn soft_key() -> Held {
    Held {
        key: WebauthnAuthenticator::new(SoftPasskey::new(true)),
        cred_id: None,
        user_handle: None,
    }
}

/// Registers a passkey (or, with `path` `/api/mfa/webauthn`, a security key) through `b`;
/// `edit` changes the options before the key sees them. The answer of the finishing call.
pub async fn register(
    b: &mut Browser<'_>,
    held: &mut Held,
    path: &str,
    edit: impl FnOnce(&mut CreationChallengeResponse),
) -> Answer {
    let options = b.post(&format!("{path}/options"), json!({})).await;
    assert_eq!(options.status, 200, "{:?}", options.json);
    let mut options: CreationChallengeResponse = serde_json::from_value(options.json).unwrap();
    // SoftPasskey cannot keep a resident key: it is told it need not (the server cannot know).
    if let Some(s) = options.public_key.authenticator_selection.as_mut() {
        s.require_resident_key = false;
    }
    held.user_handle = Some(options.public_key.user.id.clone());
    edit(&mut options);
    let credential = held.key.do_registration(origin(), options).unwrap();
    held.cred_id = Some(credential.raw_id.clone());
    b.post(path, json!({ "credential": credential, "name": "Laptop" }))
        .await
}

/// A discoverable sign-in's options, answered by `held` (pointed at its passkey); `edit`
/// changes the options before the key sees them.
pub async fn answer_passkey(
    b: &mut Browser<'_>,
    held: &mut Held,
    edit: impl FnOnce(&mut RequestChallengeResponse),
) -> Value {
    let options = b.post("/api/login/passkey/options", json!({})).await;
    assert_eq!(options.status, 200, "{:?}", options.json);
    let mut options: RequestChallengeResponse = serde_json::from_value(options.json).unwrap();
    options.public_key.allow_credentials = vec![AllowCredentials {
        type_: "public-key".into(),
        id: held.cred_id.clone().unwrap(),
        transports: None,
    }];
    edit(&mut options);
    let mut credential = held.key.do_authentication(origin(), options).unwrap();
    credential.response.user_handle = held.user_handle.clone();
    serde_json::to_value(credential).unwrap()
}
