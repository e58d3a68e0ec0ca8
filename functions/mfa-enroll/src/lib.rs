//! `mfa-enroll`: setting up a second factor. Mandatory at the first sign-in: a session at
//! level `password` whose user has no factor can reach these routes and nothing else. Once a
//! factor exists, adding or replacing one needs a full session and a proof of the second
//! factor from the last five minutes (403 `reauth_required`); the change then ends the user's
//! other sessions, gives this one a new id and emails the user.
//!
//! - `POST /api/mfa/totp` → `{secret, otpauth_uri, qr_svg}` (the seed is kept sealed, pending)
//! - `POST /api/mfa/totp/confirm {code}` → `{recovery_codes, next}`
//! - `POST /api/mfa/webauthn/options` → creation options
//! - `POST /api/mfa/webauthn {credential}` → `{recovery_codes, next}`

mod totp;
mod webauthn;

use lambda_http::http::StatusCode;
use porter_shared::auth::second_factor::{change_factors, require_recent_proof};
use porter_shared::auth::session::{authenticate, upgrade_to_full, Caller};
use porter_shared::credentials::recovery;
use porter_shared::domain::{AuditEvent, Level, Timestamp};
use porter_shared::http::{json_with_cookie, ApiError, Body, Request, Response, Routes};
use porter_shared::store::users::CredentialChange;
use porter_shared::AppState;
use serde_json::json as j;
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .post("/api/mfa/totp", totp::start)
            .post("/api/mfa/totp/confirm", totp::confirm)
            .post("/api/mfa/webauthn/options", webauthn::options)
            .post("/api/mfa/webauthn", webauthn::finish)
    });
    ROUTES.serve(state, req).await
}

/// The caller, if they may enrol: first factor only and no second factor yet, or fully
/// signed in with a recent proof. A password-level session of a user who has a factor must
/// finish signing in first.
pub(crate) async fn enroller(state: &AppState, req: &Request) -> Result<Caller, ApiError> {
    let caller = authenticate(state, req, Level::Password).await?;
    if caller.session.level == Level::Password && caller.user.has_mfa() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "mfa_required",
            "Sign in with your existing second factor before adding another.",
        ));
    }
    require_recent_proof(&caller, Timestamp::now())?;
    Ok(caller)
}

/// Ten fresh recovery codes: the plain codes for the answer, their hashes for the store.
pub(crate) fn recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes = recovery::generate(&mut rand::rngs::OsRng);
    let hashes = codes.iter().filter_map(|c| recovery::hash(c)).collect();
    (codes, hashes)
}

/// The end of every enrolment: `change` is stored, the event recorded, and the codes are shown
/// once. A first enrolment completes the sign-in (the session becomes full, under a new id);
/// a change by someone who already had a factor ends their other sessions and is emailed.
pub(crate) async fn enrolled(
    state: &AppState,
    caller: &Caller,
    change: &CredentialChange,
    method: &'static str,
    codes: Vec<String>,
    ip: &str,
) -> Result<Response<Body>, ApiError> {
    let user = &caller.user;
    let mut events = vec![AuditEvent::by(user, "mfa.enroll", Some(user), ip).outcome(method)];
    if user.has_mfa() {
        let what = match method {
            "totp" if user.has_totp => "Your authenticator app was replaced.",
            "totp" => "An authenticator app was added to your account.",
            _ => "A security key was added to your account.",
        };
        let cookie = change_factors(state, caller, change, &events, what).await?;
        return Ok(json_with_cookie(
            StatusCode::OK,
            &j!({ "recovery_codes": codes, "next": "done" }),
            cookie,
        ));
    }
    if !state.store.change_factors(user, change).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "totp_not_started",
            "This set-up was replaced by a newer one. Scan the newest QR code.",
        ));
    }
    if caller.session.level == Level::Password {
        // This enrolment was the second step of a sign-in: record the sign-in too.
        events.push(AuditEvent::by(user, "login.success", Some(user), ip).outcome(method));
    }
    let (cookie, next) = upgrade_to_full(state, caller, &events).await?;
    Ok(json_with_cookie(
        StatusCode::OK,
        &j!({ "recovery_codes": codes, "next": next }),
        cookie,
    ))
}
