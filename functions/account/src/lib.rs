//! `account`: a signed-in user looking after their own account.
//!
//! - `POST /api/account/reauth {method, code | credential}` → 200: proves the second factor
//!   again (a TOTP code, a recovery code, or a security key after
//!   `POST /api/login/webauthn/options`); for the next five minutes the session may change
//!   factors. Wrong proofs count like sign-in guesses (401 `invalid_code`, then 429).
//! - `POST /api/account/recovery-codes` → `{recovery_codes}`: a fresh set in place of the old
//!   one, under the recent-proof rule (403 `reauth_required`); ends the user's other sessions
//!   and emails them.

use lambda_http::http::StatusCode;
use porter_shared::auth::second_factor::{change_factors, prove, Proof};
use porter_shared::auth::session::authenticate;
use porter_shared::credentials::recovery;
use porter_shared::domain::session::REAUTH_SECS;
use porter_shared::domain::{AuditEvent, Level, Timestamp};
use porter_shared::http::{
    client_ip, json, json_with_cookie, parse_json, ApiError, Body, HandlerResult, Request,
    Response, Routes,
};
use porter_shared::store::users::FactorChange;
use porter_shared::AppState;
use serde_json::json as j;
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .post("/api/account/reauth", reauth)
            .post("/api/account/recovery-codes", new_recovery_codes)
    });
    ROUTES.serve(state, req).await
}

async fn reauth(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    let proof: Proof = parse_json(req)?;
    let now = Timestamp::now();
    let ip = client_ip(req);
    let user = &caller.user;
    if !prove(state, &caller, &proof, now).await? {
        let event = AuditEvent::by(user, "account.reauth", Some(user), &ip).outcome("failure");
        state.store.audit(&event).await;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_code",
            "That code is not valid. Try the current one.",
        ));
    }
    if !state
        .store
        .set_session_proof(&caller.session.hash, now)
        .await?
    {
        return Err(porter_shared::auth::session::unauthenticated());
    }
    let event = AuditEvent::by(user, "account.reauth", Some(user), &ip).outcome(proof.method());
    state.store.audit(&event).await;
    Ok(json(
        StatusCode::OK,
        &j!({ "message": "Confirmed. You can change your sign-in methods now.", "valid_for_secs": REAUTH_SECS }),
    ))
}

async fn new_recovery_codes(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    if !caller.user.has_mfa() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "mfa_not_enrolled",
            "Set up a second factor first: recovery codes come with it.",
        ));
    }
    let codes = recovery::generate(&mut rand::rngs::OsRng);
    let hashes: Vec<String> = codes.iter().filter_map(|c| recovery::hash(c)).collect();
    let user = &caller.user;
    let event = AuditEvent::by(user, "mfa.recovery_codes", Some(user), &client_ip(req));
    let cookie = change_factors(
        state,
        &caller,
        &FactorChange::recovery_codes(&hashes),
        &[event],
        "New recovery codes were made for your account; the old ones no longer work.",
    )
    .await?;
    Ok(json_with_cookie(
        StatusCode::OK,
        &j!({ "recovery_codes": codes }),
        cookie,
    ))
}
