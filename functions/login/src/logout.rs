//! `POST /api/logout`: the session ends on the server, and the cookie with it.

use lambda_http::http::StatusCode;
use porter_shared::domain::PresentedSession;
use porter_shared::http::cookies::Cookie;
use porter_shared::http::{empty, HandlerResult, Request};
use porter_shared::AppState;

/// `POST /api/logout`: the session item is deleted (not just the cookie), so the id is dead
/// everywhere at once. 204 whether or not there was a session.
pub(crate) async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    if let Some(presented) = Cookie::Session
        .read(req, &state.config)
        .and_then(|id| PresentedSession::parse(&id))
    {
        state.store.delete_session(&presented.hash).await?;
    }
    let mut resp = empty(StatusCode::NO_CONTENT);
    resp.headers_mut().append(
        lambda_http::http::header::SET_COOKIE,
        Cookie::Session.clear(&state.config),
    );
    Ok(resp)
}
