//! Security-key enrolment (WebAuthn registration). The ceremony state stays in the session item.

use crate::enrol::{enrolled, enroller};
use lambda_http::http::StatusCode;
use porter_shared::auth::ceremony;
use porter_shared::credentials::recovery;
use porter_shared::credentials::webauthn::{passkeys, user_handle, with_new_key, Ceremony};
use porter_shared::domain::factors::key_name;
use porter_shared::domain::Timestamp;
use porter_shared::http::{client_ip, parse_json, ApiError, HandlerResult, Request};
use porter_shared::store::users::CredentialChange;
use porter_shared::AppState;
use serde::Deserialize;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

pub async fn options(state: &AppState, req: &Request) -> HandlerResult {
    let caller = enroller(state, req).await?;
    let existing: Vec<_> = passkeys(&caller.credentials.factors.security_keys)
        .iter()
        .map(|k| k.cred_id().clone())
        .collect();
    let email = caller.user.email.as_str();
    let (options, ceremony) = state
        .webauthn()?
        .start_passkey_registration(user_handle(&caller.user.id), email, email, Some(existing))
        .map_err(|e| ApiError::internal("webauthn options", &e))?;
    ceremony::begin(state, &caller, Ceremony::Register(ceremony), &options).await
}

#[derive(Deserialize)]
struct FinishRequest {
    credential: RegisterPublicKeyCredential,
    /// What the user calls this key; "Security key N" when absent.
    #[serde(default)]
    name: Option<String>,
}

pub async fn finish(state: &AppState, req: &Request) -> HandlerResult {
    let caller = enroller(state, req).await?;
    let body: FinishRequest = parse_json(req)?;
    let Some(Ceremony::Register(ceremony)) = ceremony::take(state, &caller).await? else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "webauthn_not_started",
            "Start the security key set-up again.",
        ));
    };
    let passkey = state
        .webauthn()?
        .finish_passkey_registration(&body.credential, &ceremony)
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "webauthn_failed",
                "The security key could not be registered. Try again.",
            )
        })?;
    let current = &caller.credentials.factors.security_keys;
    let name = body
        .name
        .as_deref()
        .and_then(key_name)
        .unwrap_or_else(|| format!("Security key {}", current.0.len() + 1));
    let keys = with_new_key(current, &passkey, &name, Timestamp::now().0);
    let (codes, hashes) = recovery::fresh(&mut rand::rngs::OsRng);
    let change = CredentialChange::security_keys(
        &keys,
        caller.credentials.factors.security_keys_version,
        Some(&hashes),
    );
    enrolled(
        state,
        &caller,
        &change,
        "webauthn",
        codes,
        &client_ip(req),
        None,
    )
    .await
}
