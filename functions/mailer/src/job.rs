//! One queued mail job: claimed by its message id, done, and its claim given back when it
//! fails (so that SQS's next delivery does it).

use porter_shared::deliveries::deliver;
use porter_shared::domain::Timestamp;
use porter_shared::mail::queue::MailJob;
use porter_shared::AppState;

pub(crate) async fn run(state: &AppState, id: &str, body: Option<&str>) -> Result<(), String> {
    // A body that is no job never becomes one: it goes to the dead-letter queue for a person
    // to look at.
    let job: MailJob = serde_json::from_str(body.unwrap_or_default())
        .map_err(|e| format!("not a mail job: {e}"))?;
    let now = Timestamp::now();
    if !state
        .store
        .claim_job(id, now)
        .await
        .map_err(|e| e.to_string())?
    {
        tracing::info!(message_id = %id, "mail job done already; dropped");
        return Ok(());
    }
    if let Err(e) = deliver(state, &job).await {
        if let Err(release) = state.store.release_job(id).await {
            tracing::error!(error = %release, "could not give a failed mail job's claim back");
        }
        return Err(e.to_string());
    }
    Ok(())
}
