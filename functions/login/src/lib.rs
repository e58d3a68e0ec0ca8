//! `login`: email first, password (or a PIN emailed to the person), second factor, sign-out,
//! and "forgot password".

mod floor;
mod forgot;
mod identify;
mod mfa;
mod password;
mod pin;

use lambda_http::http::StatusCode;
use porter_shared::domain::TokenHash;
use porter_shared::http::cookies::Cookie;
use porter_shared::http::{empty, Body, HandlerResult, Request, Response};
use porter_shared::AppState;
use porter_shared::Routes;
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .post("/api/login/identify", identify::handle)
            .post("/api/login/password", password::handle)
            .post("/api/login/mfa", mfa::verify)
            .post("/api/login/webauthn/options", mfa::webauthn_options)
            .post("/api/logout", logout)
            .post("/api/password/forgot", forgot::handle)
            .post("/api/login/pin/request", pin::request)
            .post("/api/login/pin", pin::sign_in)
    });
    ROUTES.serve(state, req).await
}

/// `POST /api/logout`: the session item is deleted (not just the cookie), so the id is dead
/// everywhere at once. 204 whether or not there was a session.
async fn logout(state: &AppState, req: &Request) -> HandlerResult {
    if let Some(hash) = Cookie::Session
        .read(req, &state.config)
        .and_then(|id| TokenHash::of_presented(&id))
    {
        state.store.delete_session(&hash).await?;
    }
    let mut resp = empty(StatusCode::NO_CONTENT);
    resp.headers_mut().append(
        lambda_http::http::header::SET_COOKIE,
        Cookie::Session.clear(&state.config),
    );
    Ok(resp)
}
