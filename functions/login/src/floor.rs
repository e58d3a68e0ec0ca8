//! The answer floor of the flows that email someone ("forgot password", sign-in PIN): the
//! answer goes out `MIN_ANSWER` after the request came in, whether an email is due or not.
//! The mail is a job (`mail::queue`): put on the mail queue before the answer (durable: the
//! `mailer` function sends it, with retries and a dead-letter queue), or, where no queue is
//! configured, done here within the floor and never waited for past it (a slow SES would
//! otherwise tell who has an account; work still running then may be lost with the instance).

use porter_shared::deliveries::deliver;
use porter_shared::http::ApiError;
use porter_shared::mail::queue::MailJob;
use porter_shared::AppState;
use std::time::Duration;
use tokio::time::Instant;

pub(crate) const MIN_ANSWER: Duration = Duration::from_millis(700);

/// Hands `job` over (unless the request was over its limit: `limited`) and returns at
/// `started + MIN_ANSWER`. 503 when the queue cannot take it: that depends on nobody's
/// account, and asking again works.
pub(crate) async fn hand_over(
    state: &AppState,
    started: Instant,
    limited: bool,
    job: MailJob,
) -> Result<(), ApiError> {
    let deadline = started + MIN_ANSWER;
    if limited {
        tracing::warn!("over the limit for this address or source; no email");
    } else if let Some(queue) = state.mail_queue() {
        queue
            .enqueue(&job)
            .await
            .map_err(|e| ApiError::mail_unavailable(&e))?;
    } else {
        let state = state.clone();
        let mut work = tokio::spawn(async move {
            if let Err(e) = deliver(&state, &job).await {
                // Logged, never shown: the answer must not depend on the account.
                tracing::error!(error = %e, "email not sent");
            }
        });
        tokio::select! {
            _ = &mut work => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    }
    tokio::time::sleep_until(deadline).await;
    Ok(())
}
