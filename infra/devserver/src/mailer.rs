//! The `mailer` function as Lambda runs it: SQS messages of the mail queue handed to the
//! handler in batches of up to ten, handled ones deleted, reported failures left for SQS to
//! deliver again (after the queue's visibility timeout) until its redrive policy moves them to
//! the dead-letter queue. `make dev` polls in the background; the tests drain after each
//! request of the function that queues mail, so that its mail is in the outbox at once.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use porter_shared::mail::queue::{MailQueue, Received};
use porter_shared::AppState;
use std::collections::HashSet;

/// The local queues' names, from the table's.
pub fn queue_names(table: &str) -> (String, String) {
    (format!("{table}-mail"), format!("{table}-mail-dlq"))
}

/// Hands one batch (what `receive` gave) to the mailer and deletes what it handled.
async fn run_batch(state: &AppState, queue: &MailQueue, batch: Vec<Received>) -> usize {
    let records = batch
        .iter()
        .map(|m| {
            let mut r = SqsMessage::default();
            r.message_id = Some(m.message_id.clone());
            r.receipt_handle = Some(m.receipt_handle.clone());
            r.body = Some(m.body.clone());
            r
        })
        .collect();
    let mut event = SqsEvent::default();
    event.records = records;
    let response = mailer::handle(state, event).await;
    let failed: HashSet<String> = response
        .batch_item_failures
        .into_iter()
        .map(|f| f.item_identifier)
        .collect();
    let mut done = 0;
    for m in batch {
        if failed.contains(&m.message_id) {
            continue;
        }
        match queue.delete(&m.receipt_handle).await {
            Ok(()) => done += 1,
            Err(e) => tracing::warn!(error = %e, "could not delete a handled mail job"),
        }
    }
    done
}

/// Runs every message visible now (none waiting): what the tests call after a request.
pub async fn drain(state: &AppState) -> usize {
    let Some(queue) = state.mail_queue() else {
        return 0;
    };
    let mut done = 0;
    // Bounded, and over once a batch fails whole: a failed message comes back after the
    // visibility timeout, and is for the next drain (as for Lambda's next poll) to try again.
    for _ in 0..10 {
        match queue.receive(0).await {
            Ok(batch) if batch.is_empty() => break,
            Ok(batch) => match run_batch(state, queue, batch).await {
                0 => break,
                n => done += n,
            },
            Err(e) => {
                tracing::warn!(error = %e, "could not read the mail queue");
                break;
            }
        }
    }
    done
}

/// Polls the mail queue for as long as `make dev` runs. Short polls five times a second, not
/// Lambda's long polls: moto serves one request at a time, and a long poll would hold every
/// other request of the stack for its length.
pub async fn poll(state: AppState) {
    let Some(queue) = state.mail_queue().cloned() else {
        return;
    };
    loop {
        match queue.receive(0).await {
            Ok(batch) if batch.is_empty() => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Ok(batch) => {
                run_batch(&state, &queue, batch).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read the mail queue");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}
