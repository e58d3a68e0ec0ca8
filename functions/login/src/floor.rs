//! The answer floor of the flows that email someone ("forgot password", sign-in PIN): the
//! answer goes out `MIN_ANSWER` after the request came in, whether an email was sent or not,
//! and never waits for the mail service past it (a slow SES would otherwise tell who has an
//! account). Work still running then goes on after the answer: in Lambda it finishes when the
//! instance next runs; asking again after a minute sends a new email.

use porter_shared::domain::{Email, UserRecord};
use porter_shared::store::StoreError;
use porter_shared::AppState;
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

pub(crate) const MIN_ANSWER: Duration = Duration::from_millis(700);

/// The user an address typed in one of these flows belongs to, if any (a malformed address
/// belongs to nobody).
pub(crate) async fn addressee(
    state: &AppState,
    raw_email: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let Ok(email) = Email::parse(raw_email) else {
        return Ok(None);
    };
    let Some((tid, uid)) = state.store.find_by_email(&email).await? else {
        return Ok(None);
    };
    state.store.get_user(&tid, &uid).await
}

/// Runs `work` and returns at `started + MIN_ANSWER`, done or not.
pub(crate) async fn at_floor(started: Instant, work: impl Future<Output = ()> + Send + 'static) {
    let mut work = tokio::spawn(work);
    let deadline = started + MIN_ANSWER;
    tokio::select! {
        _ = &mut work => {}
        () = tokio::time::sleep_until(deadline) => {}
    }
    tokio::time::sleep_until(deadline).await;
}
