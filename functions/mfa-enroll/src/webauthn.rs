//! Security-key enrolment (WebAuthn registration). The ceremony state stays in the session item.

use crate::{enrolled, enroller, recovery_codes};
use lambda_http::http::StatusCode;
use porter_shared::auth::webauthn::{self, keys_from_json, keys_to_json, user_handle, Ceremony};
use porter_shared::http::{client_ip, parse_json, ApiError, Body, Request, Response};
use porter_shared::store::StoreError;
use porter_shared::AppState;
use serde::Deserialize;
use webauthn_rs::prelude::RegisterPublicKeyCredential;

fn store_err(e: StoreError) -> ApiError {
    ApiError::internal("security key enrolment failed", &e)
}

pub async fn options(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = enroller(state, req).await?;
    let creds = &caller.credentials;
    let existing: Vec<_> = keys_from_json(creds.webauthn_keys.as_deref())
        .iter()
        .map(|k| k.cred_id().clone())
        .collect();
    let email = caller.user.email.as_str();
    let (options, ceremony) = state
        .webauthn
        .start_passkey_registration(user_handle(&caller.user.id), email, email, Some(existing))
        .map_err(|e| ApiError::internal("webauthn options", &e))?;
    webauthn::begin(state, &caller, Ceremony::Register(ceremony), &options).await
}

#[derive(Deserialize)]
struct FinishRequest {
    credential: RegisterPublicKeyCredential,
}

pub async fn finish(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = enroller(state, req).await?;
    let body: FinishRequest = parse_json(req)?;
    let Some(Ceremony::Register(ceremony)) = webauthn::current(&caller) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "webauthn_not_started",
            "Start the security key set-up again.",
        ));
    };
    let passkey = state
        .webauthn
        .finish_passkey_registration(&body.credential, &ceremony)
        .map_err(|_| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "webauthn_failed",
                "The security key could not be registered. Try again.",
            )
        })?;
    let creds = &caller.credentials;
    let mut keys = keys_from_json(creds.webauthn_keys.as_deref());
    keys.push(passkey);
    let (codes, hashes) = recovery_codes();
    state
        .store
        .set_webauthn_keys(&caller.user, &keys_to_json(&keys), Some(&hashes))
        .await
        .map_err(store_err)?;
    enrolled(state, &caller, "webauthn", codes, &client_ip(req)).await
}
