//! Ending sessions: one (`DELETE /api/account/sessions/{id}`, the id from `GET /api/account`;
//! the current one signs this browser out), or every other one (`DELETE /api/account/sessions`:
//! the epoch moves and this session continues under a new id). Ending another session needs a
//! second-factor proof from the last five minutes (ASVS 7.5.2), as a change of factors does:
//! whoever took over this browser must not lock its owner's other devices out.

use lambda_http::http::StatusCode;
use porter_shared::auth::second_factor::{end_other_sessions, require_recent_proof};
use porter_shared::auth::session::authenticate;
use porter_shared::domain::{Action, AuditEvent, Level, Timestamp, TokenHash};
use porter_shared::http::cookies::Cookie;
use porter_shared::http::Message;
use porter_shared::http::{client_ip, empty, json_with_cookie, ApiError, HandlerResult, Request};
use porter_shared::store::users::CredentialChange;
use porter_shared::AppState;

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
    if hash != caller.session.hash {
        require_recent_proof(&caller, Timestamp::now())?;
    }
    if !state.store.end_session_of(user, &hash).await? {
        return Err(not_found());
    }
    let event = AuditEvent::by(user, Action::SessionEnd, Some(user), &client_ip(req));
    state.store.audit(&event).await;
    let mut resp = empty(StatusCode::NO_CONTENT);
    if hash == caller.session.hash {
        resp.headers_mut().append(
            http::header::SET_COOKIE,
            Cookie::Session.clear(&state.config),
        );
    }
    Ok(resp)
}

pub async fn end_others(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    require_recent_proof(&caller, Timestamp::now())?;
    let user = &caller.user;
    let event = AuditEvent::by(user, Action::SessionEndOthers, Some(user), &client_ip(req));
    let change = CredentialChange::nothing();
    let cookie = end_other_sessions(state, &caller, &change, &[event]).await?;
    Ok(json_with_cookie(
        StatusCode::OK,
        &Message {
            message: "Every other session was signed out.",
        },
        cookie,
    ))
}
