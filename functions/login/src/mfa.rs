//! `POST /api/login/mfa`: the second factor at sign-in (TOTP code, recovery code or security
//! key), and `POST /api/login/webauthn/options` to start the security-key ceremony.
//! Success replaces the session by a new one at level `full`.

use lambda_http::http::StatusCode;
use porter_shared::auth::ceremony;
use porter_shared::auth::guard::{open_seed, MfaGuesses};
use porter_shared::auth::session::{authenticate, upgrade_to_full, Caller};
use porter_shared::credentials::webauthn::{passkeys, security_keys, Ceremony};
use porter_shared::credentials::{recovery, totp};
use porter_shared::domain::{AuditEvent, Level, Timestamp};
use porter_shared::http::{
    client_ip, json_with_cookie, parse_json, ApiError, HandlerResult, Request,
};
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

fn invalid_code() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_code",
        "That code is not valid. Try the current one.",
    )
}

pub async fn verify(state: &AppState, req: &Request) -> HandlerResult {
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
    let ip = client_ip(req);
    let (ok, method) = match &body {
        MfaRequest::Totp { code } => (check_totp(state, &caller, code, now).await?, "totp"),
        MfaRequest::Recovery { code } => (
            match recovery::hash(code) {
                Some(h) => state.store.spend_recovery_code(&caller.user, &h).await?,
                None => false,
            },
            "recovery",
        ),
        MfaRequest::Webauthn { credential } => {
            (check_key(state, &caller, credential).await?, "webauthn")
        }
    };
    let user = &caller.user;
    if !ok {
        let event = AuditEvent::by(user, "login.mfa", Some(user), &ip).outcome("failure");
        state.store.audit(&event).await;
        return Err(invalid_code());
    }
    guesses.succeeded(state).await;
    let success = AuditEvent::by(user, "login.success", Some(user), &ip).outcome(method);
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
    code: &str,
    now: Timestamp,
) -> Result<bool, ApiError> {
    let Some(factor) = &caller.credentials.factors.totp else {
        return Ok(false);
    };
    let seed = open_seed(state, &factor.seed, &caller.user).await?;
    let Some(step) = totp::matching_step(&seed, code, now) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if step <= factor.last_step {
        return Ok(false); // replayed
    }
    Ok(state.store.spend_totp_step(&caller.user, step).await?)
}

async fn check_key(
    state: &AppState,
    caller: &Caller,
    credential: &PublicKeyCredential,
) -> Result<bool, ApiError> {
    let Some(Ceremony::Login(ceremony)) = ceremony::current(caller) else {
        return Ok(false);
    };
    let Ok(result) = state
        .webauthn
        .finish_passkey_authentication(credential, &ceremony)
    else {
        return Ok(false);
    };
    if result.needs_update() {
        let mut keys = passkeys(&caller.credentials.factors.security_keys);
        for k in &mut keys {
            k.update_credential(&result);
        }
        state
            .store
            .set_security_keys(&caller.user, &security_keys(&keys), None)
            .await?;
    }
    Ok(true)
}

pub async fn webauthn_options(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Password).await?;
    let keys = passkeys(&caller.credentials.factors.security_keys);
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
    ceremony::begin(state, &caller, Ceremony::Login(ceremony), &options).await
}
