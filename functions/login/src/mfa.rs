//! `POST /api/login/mfa`: the second factor at sign-in (TOTP code, recovery code or security
//! key), and `POST /api/login/webauthn/options` to start the security-key ceremony.
//! Success replaces the session by a new one at level `full`.

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::{open_seed, MfaGuesses};
use porter_shared::auth::session::{authenticate, upgrade_to_full, Caller};
use porter_shared::auth::webauthn::{self, keys_from_json, keys_to_json, Ceremony};
use porter_shared::auth::{recovery, totp};
use porter_shared::domain::Timestamp;
use porter_shared::http::{
    client_ip, json_with_cookie, parse_json, ApiError, Body, Request, Response,
};
use porter_shared::store::sessions::Level;
use porter_shared::store::users::Credentials;
use porter_shared::store::{AuditEvent, StoreError};
use porter_shared::AppState;
use serde::Deserialize;
use serde_json::json as j;
use webauthn_rs::prelude::PublicKeyCredential;

#[derive(Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
enum MfaRequest {
    Totp { code: String },
    Recovery { code: String },
    Webauthn { credential: PublicKeyCredential },
}

fn store_err(e: StoreError) -> ApiError {
    ApiError::internal("second factor check failed", &e)
}

fn invalid_code() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_code",
        "That code is not valid. Try the current one.",
    )
}

pub async fn verify(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, req, Level::Password).await?;
    let body: MfaRequest = parse_json(req)?;
    if !caller.user.has_mfa() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "mfa_not_enrolled",
            "Set up a second factor first.",
        ));
    }
    let now = Timestamp::now();
    let guesses = MfaGuesses::check(state, &caller.user, now).await?;
    let creds = &caller.credentials;
    let ip = client_ip(req);
    let (ok, method) = match &body {
        MfaRequest::Totp { code } => (check_totp(state, &caller, creds, code, now).await?, "totp"),
        MfaRequest::Recovery { code } => (
            match recovery::hash(code) {
                Some(h) => state
                    .store
                    .spend_recovery_code(&caller.user, &h)
                    .await
                    .map_err(store_err)?,
                None => false,
            },
            "recovery",
        ),
        MfaRequest::Webauthn { credential } => (
            check_key(state, &caller, creds, credential).await?,
            "webauthn",
        ),
    };
    if !ok {
        guesses.failed(state, now).await?;
        state
            .store
            .audit(&AuditEvent::by_user(
                &caller.user,
                "login.mfa",
                "failure",
                &ip,
            ))
            .await;
        return Err(invalid_code());
    }
    guesses.succeeded(state).await?;
    let success = AuditEvent::by_user(&caller.user, "login.success", method, &ip);
    let (cookie, next) = upgrade_to_full(state, &caller, &[success]).await?;
    Ok(json_with_cookie(
        StatusCode::OK,
        &j!({ "next": next }),
        cookie,
    ))
}

/// A current code, not used before: the step it belongs to is spent atomically.
async fn check_totp(
    state: &AppState,
    caller: &Caller,
    creds: &Credentials,
    code: &str,
    now: Timestamp,
) -> Result<bool, ApiError> {
    let Some(sealed) = &creds.totp_sealed else {
        return Ok(false);
    };
    let seed = open_seed(state, sealed, &caller.user).await?;
    let Some(step) = totp::matching_step(&seed, code, now) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if step <= creds.totp_last_step {
        return Ok(false); // replayed
    }
    state
        .store
        .spend_totp_step(&caller.user, step)
        .await
        .map_err(store_err)
}

async fn check_key(
    state: &AppState,
    caller: &Caller,
    creds: &Credentials,
    credential: &PublicKeyCredential,
) -> Result<bool, ApiError> {
    let Some(Ceremony::Login(ceremony)) = webauthn::current(caller) else {
        return Ok(false);
    };
    let Ok(result) = state
        .webauthn
        .finish_passkey_authentication(credential, &ceremony)
    else {
        return Ok(false);
    };
    let mut keys = keys_from_json(creds.webauthn_keys.as_deref());
    if result.needs_update() {
        for k in &mut keys {
            k.update_credential(&result);
        }
        state
            .store
            .set_webauthn_keys(&caller.user, &keys_to_json(&keys), None)
            .await
            .map_err(store_err)?;
    }
    Ok(true)
}

pub async fn webauthn_options(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, req, Level::Password).await?;
    let creds = &caller.credentials;
    let keys = keys_from_json(creds.webauthn_keys.as_deref());
    if keys.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_security_key",
            "No security key is registered for this account. Use your authenticator app or a recovery code.",
        ));
    }
    let (options, ceremony) = state
        .webauthn
        .start_passkey_authentication(&keys)
        .map_err(|e| ApiError::internal("webauthn options", &e))?;
    webauthn::begin(state, &caller, Ceremony::Login(ceremony), &options).await
}
