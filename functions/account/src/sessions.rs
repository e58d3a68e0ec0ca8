//! Ending sessions: one (`DELETE /api/account/sessions/{id}`, the id from `GET /api/account`;
//! the current one signs this browser out), or every other one (`DELETE /api/account/sessions`:
//! the epoch moves and this session continues under a new id).

use lambda_http::http::StatusCode;
use porter_shared::auth::session::{authenticate, clear_cookie, set_cookie, unauthenticated};
use porter_shared::domain::{AuditEvent, Level, Timestamp, TokenHash};
use porter_shared::http::{client_ip, empty, json_with_cookie, ApiError, HandlerResult, Request};
use porter_shared::store::users::CredentialChange;
use porter_shared::store::StoreError;
use porter_shared::AppState;
use serde_json::json as j;

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "session_not_found",
        "There is no such session of yours. It may have ended already.",
    )
}

pub async fn end_one(state: &AppState, req: &Request, id: String) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    let user = &caller.user;
    let hash = TokenHash::from_hex(&id).ok_or_else(not_found)?;
    if !state.store.end_session_of(user, &hash).await? {
        return Err(not_found());
    }
    let event = AuditEvent::by(user, "session.end", Some(user), &client_ip(req));
    state.store.audit(&event).await;
    let mut resp = empty(StatusCode::NO_CONTENT);
    if hash == caller.session.hash {
        resp.headers_mut()
            .append(http::header::SET_COOKIE, clear_cookie(&state.config));
    }
    Ok(resp)
}

pub async fn end_others(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    let user = &caller.user;
    let now = Timestamp::now();
    let mut rng = rand::rngs::OsRng;
    let (id, session) = caller
        .session
        .rotated(user.session_epoch + 1, now, &mut rng);
    let event = AuditEvent::by(user, "session.end_others", Some(user), &client_ip(req));
    let done = state
        .store
        .change_factors_ending_other_sessions(
            user,
            &CredentialChange::nothing(),
            &caller.session.hash,
            &session,
            &[event],
            &mut rng,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict { .. } => unauthenticated(),
            e => e.into(),
        })?;
    if !done {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "Your account changed meanwhile. Reload the page and try again.",
        ));
    }
    Ok(json_with_cookie(
        StatusCode::OK,
        &j!({ "message": "Every other session was signed out." }),
        set_cookie(
            &state.config,
            id.secret(),
            (session.expires_at.0 - now.0).max(0),
        ),
    ))
}
