//! `POST /api/password/forgot {email}`: always 202. When the address belongs to an active
//! user, a reset link (1 hour, single use) is emailed (`deliveries`, through the mail queue).
//! Every answer takes `MIN_ANSWER`, so that sending an email cannot be told apart from not
//! sending one, and never waits for the mail service: a slow SES would tell who has an account.

use crate::floor::hand_over;
use lambda_http::http::StatusCode;
use porter_shared::auth::guard::forgot_limited;
use porter_shared::domain::Timestamp;
use porter_shared::http::Notice;
use porter_shared::http::{client_ip, json, parse_json, ApiError, Body, Request, Response};
use porter_shared::mail::queue::MailJob;
use porter_shared::AppState;
use serde::Deserialize;

#[derive(Deserialize)]
struct ForgotRequest {
    email: String,
}

pub async fn handle(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let started = tokio::time::Instant::now();
    let body: ForgotRequest = parse_json(req)?;
    let ip = client_ip(req);
    let limited = forgot_limited(state, &ip, Timestamp::now()).await?;
    let job = MailJob::PasswordReset {
        email: body.email,
        ip,
    };
    hand_over(state, started, limited, job).await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &Notice {
            status: "accepted",
            message: "If this address belongs to an account, a reset link is on its way. It works for one hour.",
        },
    ))
}
