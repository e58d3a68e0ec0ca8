//! `activate`: an invited person sets their password (`POST /api/activation`) or trades a dead
//! link for a fresh one (`POST /api/activation/resend`); a person who forgot their password
//! sets a new one from the emailed link (`POST /api/password/reset`).

mod link;
mod resend;

use lambda_http::http::Method;
use porter_shared::domain::TokenKind;
use porter_shared::http::{check_origin, with_security_headers, ApiError, Body, Request, Response};
use porter_shared::AppState;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match check_origin(&req, &state.config) {
        Err(e) => Err(e),
        Ok(()) => match (req.method(), req.uri().path()) {
            (&Method::POST, "/api/activation") => {
                link::handle(state, &req, TokenKind::Activation).await
            }
            (&Method::POST, "/api/activation/resend") => resend::handle(state, &req).await,
            (&Method::POST, "/api/password/reset") => {
                link::handle(state, &req, TokenKind::Reset).await
            }
            (_, "/api/activation" | "/api/activation/resend" | "/api/password/reset") => {
                Err(ApiError::method_not_allowed())
            }
            _ => Err(ApiError::not_found()),
        },
    };
    with_security_headers(result.unwrap_or_else(ApiError::into_response))
}
