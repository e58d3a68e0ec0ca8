//! `activate`: an invited person sets their password (`POST /api/activation`) or trades a dead
//! link for a fresh one (`POST /api/activation/resend`); a person who forgot their password
//! sets a new one from the emailed link (`POST /api/password/reset`).

mod activation;
mod resend;
mod reset;

use lambda_http::http::Method;
use porter_shared::http::{check_origin, with_security_headers, ApiError, Body, Request, Response};
use porter_shared::AppState;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match check_origin(&req, &state.config) {
        Err(e) => Err(e),
        Ok(()) => match (req.method(), req.uri().path()) {
            (&Method::POST, "/api/activation") => activation::handle(state, &req).await,
            (&Method::POST, "/api/activation/resend") => resend::handle(state, &req).await,
            (&Method::POST, "/api/password/reset") => reset::handle(state, &req).await,
            (_, "/api/activation" | "/api/activation/resend" | "/api/password/reset") => {
                Err(ApiError::method_not_allowed())
            }
            _ => Err(ApiError::not_found()),
        },
    };
    with_security_headers(result.unwrap_or_else(ApiError::into_response))
}
