//! `login`: email first, password, second factor, sign-out, and "forgot password".

mod forgot;
mod identify;
mod mfa;
mod password;

use lambda_http::http::{Method, StatusCode};
use porter_shared::auth::session;
use porter_shared::domain::TokenHash;
use porter_shared::http::{
    check_origin, empty, with_security_headers, ApiError, Body, Request, Response,
};
use porter_shared::AppState;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match check_origin(&req, &state.config) {
        Err(e) => Err(e),
        Ok(()) => match (req.method(), req.uri().path()) {
            (&Method::POST, "/api/login/identify") => identify::handle(state, &req).await,
            (&Method::POST, "/api/login/password") => password::handle(state, &req).await,
            (&Method::POST, "/api/login/mfa") => mfa::verify(state, &req).await,
            (&Method::POST, "/api/login/webauthn/options") => {
                mfa::webauthn_options(state, &req).await
            }
            (&Method::POST, "/api/logout") => logout(state, &req).await,
            (&Method::POST, "/api/password/forgot") => forgot::handle(state, &req).await,
            (
                _,
                "/api/login/identify"
                | "/api/login/password"
                | "/api/login/mfa"
                | "/api/login/webauthn/options"
                | "/api/logout"
                | "/api/password/forgot",
            ) => Err(ApiError::method_not_allowed()),
            _ => Err(ApiError::not_found()),
        },
    };
    with_security_headers(result.unwrap_or_else(ApiError::into_response))
}

/// `POST /api/logout`: the session item is deleted (not just the cookie), so the id is dead
/// everywhere at once. 204 whether or not there was a session.
async fn logout(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    if let Some(hash) =
        session::read_cookie(req, &state.config).and_then(|id| TokenHash::of_presented(&id))
    {
        state
            .store
            .delete_session(&hash)
            .await
            .map_err(|e| ApiError::internal("logout failed", &e))?;
    }
    let mut resp = empty(StatusCode::NO_CONTENT);
    resp.headers_mut().append(
        lambda_http::http::header::SET_COOKIE,
        session::clear_cookie(&state.config),
    );
    Ok(resp)
}
