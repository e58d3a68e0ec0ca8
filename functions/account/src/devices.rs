//! `DELETE /api/account/devices/{id}` (the id from `GET /api/account`): forgets one of the
//! caller's devices. Their password and PIN guesses from that browser then count like a
//! stranger's again. Needs a second-factor proof from the last five minutes: whoever took over
//! this browser must not strip the owner's other browsers of their standing.

use lambda_http::http::StatusCode;
use porter_shared::auth::second_factor::require_recent_proof;
use porter_shared::auth::session::authenticate;
use porter_shared::domain::{Action, AuditEvent, Level, Timestamp, TokenHash};
use porter_shared::http::cookies::Cookie;
use porter_shared::http::{client_ip, empty, ApiError, HandlerResult, Request};
use porter_shared::AppState;

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "device_not_found",
        "There is no such device of yours. It may have been forgotten already.",
    )
}

pub async fn forget(state: &AppState, req: &Request, id: String) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    require_recent_proof(&caller, Timestamp::now())?;
    let user = &caller.user;
    let hash = TokenHash::from_hex(&id).ok_or_else(not_found)?;
    if !state.store.forget_device_of(user, &hash).await? {
        return Err(not_found());
    }
    let event = AuditEvent::by(user, Action::DeviceForget, Some(user), &client_ip(req));
    state.store.audit(&event).await;
    let mut resp = empty(StatusCode::NO_CONTENT);
    if caller.device.as_ref().is_some_and(|d| d.hash == hash) {
        resp.headers_mut().append(
            http::header::SET_COOKIE,
            Cookie::Device.clear(&state.config),
        );
    }
    Ok(resp)
}
