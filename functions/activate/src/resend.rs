//! `POST /api/activation/resend {token}`: a fresh link for the person an old one was sent to.
//!
//! The answer is 202 whatever the token names, so that it tells nothing to someone guessing;
//! only someone who holds a real link learns more (429 when asking too often, 503 when the
//! email could not be sent).

use lambda_http::http::StatusCode;
use porter_shared::domain::{Timestamp, TokenHash, TokenKind};
use porter_shared::http::Notice;
use porter_shared::http::{client_ip, json, parse_json, ApiError, Body, Request, Response};
use porter_shared::invitations::{self, ReissueError};
use porter_shared::AppState;
use serde::Deserialize;

#[derive(Deserialize)]
struct ResendRequest {
    token: String,
}

pub async fn handle(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: ResendRequest = parse_json(req)?;
    let accepted = || {
        json(
            StatusCode::ACCEPTED,
            &Notice {
                status: "accepted",
                message: "If this invitation is still pending, a new link is on its way to the invited address.",
            },
        )
    };
    let Some(hash) = TokenHash::of_presented(&body.token) else {
        return Ok(accepted());
    };
    let token = state.store.get_token(&hash).await?;
    let Some(token) = token.filter(|t| t.kind == TokenKind::Activation) else {
        return Ok(accepted());
    };
    let user = state.store.get_user(&token.tenant, &token.user).await?;
    let Some(user) = user else {
        return Ok(accepted());
    };
    match invitations::reissue(state, &user, "anonymous", &client_ip(req), Timestamp::now()).await {
        Ok(()) => {
            tracing::info!(tenant = %user.tenant, user = %user.id, "activation link reissued");
            Ok(accepted())
        }
        Err(ReissueError::NotPending) => Ok(accepted()),
        Err(ReissueError::TooSoon { retry_after_secs }) => {
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                "A new link was sent less than a minute ago. Check your inbox, or try again shortly.",
            );
            e.retry_after_secs = Some(retry_after_secs);
            Err(e)
        }
        Err(ReissueError::Mail(e)) => Err(ApiError::mail_unavailable(&e)),
        Err(e) => Err(ApiError::internal("resend failed", &e)),
    }
}
