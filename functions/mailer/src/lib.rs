//! `mailer`: sends the mails that "forgot password" and sign-in PIN requests queued
//! (`mail::queue`), as an SQS event source of Lambda (batches of up to ten, partial batch
//! responses). Each message is done once: its id is claimed in the table before the job runs
//! (a message SQS delivers twice finds the claim and is dropped), and a job that fails gives
//! its claim back and is reported, so SQS retries it; after the queue's `maxReceiveCount`
//! tries it moves to the dead-letter queue, whose alarm tells the operator.

mod job;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use porter_shared::AppState;

pub async fn handle(state: &AppState, event: SqsEvent) -> SqsBatchResponse {
    let mut failures = Vec::new();
    for record in event.records {
        let Some(id) = record.message_id else {
            continue;
        };
        if let Err(reason) = job::run(state, &id, record.body.as_deref()).await {
            tracing::error!(message_id = %id, error = %reason, "mail job failed; SQS retries it");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            failures.push(failure);
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failures;
    response
}
