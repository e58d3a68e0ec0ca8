//! `POST /api/password/forgot {email}`: always 202. When the address belongs to an active
//! user, a reset link (1 hour, single use) is emailed. Every answer takes `MIN_ANSWER`, so
//! that sending an email cannot be told apart from not sending one, and never waits for the
//! mail service past it: a slow SES would otherwise tell who has an account.

use crate::floor::{addressee, at_floor};
use lambda_http::http::StatusCode;
use porter_shared::auth::guard::forgot_limited;
use porter_shared::domain::{Action, AuditEvent, Timestamp, UserStatus};
use porter_shared::http::Notice;
use porter_shared::http::{client_ip, json, parse_json, ApiError, Body, Request, Response};
use porter_shared::{invitations, AppState};
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
    let (state_for_work, email) = (state.clone(), body.email);
    at_floor(started, async move {
        if limited {
            tracing::warn!("forgot password: this address is over its limit; no email");
        } else if let Err(e) = send_reset(&state_for_work, &email, &ip).await {
            // Logged, never shown: the answer must not depend on the account.
            tracing::error!(error = %e, "password reset email not sent");
        }
    })
    .await;
    Ok(json(
        StatusCode::ACCEPTED,
        &Notice {
            status: "accepted",
            message: "If this address belongs to an account, a reset link is on its way. It works for one hour.",
        },
    ))
}

async fn send_reset(
    state: &AppState,
    raw_email: &str,
    ip: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let Some(user) = addressee(state, raw_email).await? else {
        return Ok(());
    };
    if user.status != UserStatus::Active || !invitations::send_reset(state, &user).await? {
        return Ok(()); // nothing to reset, or a link went out a moment ago
    }
    state
        .store
        .audit(&AuditEvent::by(
            &user,
            Action::PasswordResetRequested,
            Some(&user),
            ip,
        ))
        .await;
    Ok(())
}
