//! Security-key and passkey enrolment (WebAuthn registration). The ceremony state stays in the
//! session item. A passkey is a security key asked for as a discoverable credential: besides
//! being a second factor, it signs its user in on its own from the first page
//! (`/api/login/passkey`), so its credential id is indexed to the user with it.

use crate::enrol::{enrolled, enroller};
use lambda_http::http::StatusCode;
use porter_shared::auth::ceremony;
use porter_shared::credentials::recovery;
use porter_shared::credentials::webauthn::{
    key_id, registration_options, says_not_discoverable, with_new_key, Ceremony,
};
use porter_shared::domain::factors::key_name;
use porter_shared::domain::Timestamp;
use porter_shared::http::{client_ip, parse_json, ApiError, HandlerResult, Request};
use porter_shared::store::users::CredentialChange;
use porter_shared::store::Writes;
use porter_shared::AppState;
use serde::Deserialize;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

/// `POST /api/mfa/webauthn/options`: creation options for a security key.
pub async fn options(state: &AppState, req: &Request) -> HandlerResult {
    begin(state, req, false).await
}

/// `POST /api/mfa/passkey/options`: creation options for a passkey (`residentKey:
/// required`, `userVerification: required`).
pub async fn passkey_options(state: &AppState, req: &Request) -> HandlerResult {
    begin(state, req, true).await
}

async fn begin(state: &AppState, req: &Request, discoverable: bool) -> HandlerResult {
    let caller = enroller(state, req).await?;
    let keys = &caller.credentials.factors.security_keys;
    let email = caller.user.email.as_str();
    let (options, ceremony) = registration_options(
        state.webauthn()?,
        &caller.user.id,
        email,
        keys,
        discoverable,
    )
    .map_err(|e| ApiError::internal("webauthn options", &e))?;
    ceremony::begin(state, &caller, ceremony, &options).await
}

#[derive(Deserialize)]
struct FinishRequest {
    credential: RegisterPublicKeyCredential,
    /// What the user calls this key; "Security key N" (or "Passkey N") when absent.
    #[serde(default)]
    name: Option<String>,
}

/// `POST /api/mfa/webauthn {credential, name}`.
pub async fn finish(state: &AppState, req: &Request) -> HandlerResult {
    complete(state, req, false).await
}

/// `POST /api/mfa/passkey {credential, name}`.
pub async fn passkey_finish(state: &AppState, req: &Request) -> HandlerResult {
    complete(state, req, true).await
}

async fn complete(state: &AppState, req: &Request, discoverable: bool) -> HandlerResult {
    let caller = enroller(state, req).await?;
    let body: FinishRequest = parse_json(req)?;
    let (what, ceremony) = match (ceremony::take(state, &caller).await?, discoverable) {
        (Some(Ceremony::Register(c)), false) => ("security key", c),
        (Some(Ceremony::RegisterPasskey(c)), true) => ("passkey", c),
        _ => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "webauthn_not_started",
                if discoverable {
                    "Start adding the passkey again."
                } else {
                    "Start the security key set-up again."
                },
            ))
        }
    };
    let failed = || {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "webauthn_failed",
            format!("The {what} could not be registered. Try again."),
        )
    };
    let passkey = state
        .webauthn()?
        .finish_passkey_registration(&body.credential, &ceremony)
        .map_err(|_| failed())?;
    if discoverable && says_not_discoverable(&body.credential) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "passkey_not_discoverable",
            "This authenticator cannot keep a passkey. Use another one, or add it as a security key.",
        ));
    }
    let current = &caller.credentials.factors.security_keys;
    let fallback = if discoverable {
        "Passkey"
    } else {
        "Security key"
    };
    let name = body
        .name
        .as_deref()
        .and_then(key_name)
        .unwrap_or_else(|| format!("{fallback} {}", current.0.len() + 1));
    let keys = with_new_key(current, &passkey, &name, discoverable, Timestamp::now().0);
    let (codes, hashes) = recovery::fresh(&mut rand::rngs::OsRng);
    let change = CredentialChange::security_keys(
        &keys,
        caller.credentials.factors.security_keys_version,
        Some(&hashes),
    );
    let (also, method) = if discoverable {
        let user = &caller.user;
        let index = state
            .store
            .passkey_owner_write(&key_id(&passkey), &user.tenant, &user.id)?;
        (index, "passkey")
    } else {
        (Writes::none(), "webauthn")
    };
    let ip = client_ip(req);
    enrolled(state, &caller, &change, also, method, codes, &ip, None).await
}
