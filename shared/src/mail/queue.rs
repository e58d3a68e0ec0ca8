//! Mail that must not be lost: "forgot password" and sign-in PIN requests answer at a fixed
//! floor, and Lambda freezes an instance once it has answered, so work left running then may
//! never finish. Such requests put a [`MailJob`] on an SQS queue instead (durable before the
//! answer goes out); the `mailer` function does the job, with SQS's retries and a dead-letter
//! queue behind it. A job names the address as typed and where the request came from, never a
//! secret: the link or PIN is made, stored hashed and sent by the mailer.

use aws_sdk_sqs::error::DisplayErrorContext;
use serde::{Deserialize, Serialize};

/// One mail to make and send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailJob {
    /// A password-reset link, if `email` belongs to an active user.
    PasswordReset { email: String, ip: String },
    /// A sign-in PIN, if `email` may sign in with one.
    SignInPin { email: String, ip: String },
}

#[derive(Debug, thiserror::Error)]
#[error("queueing mail failed: {0}")]
pub struct QueueError(String);

/// A message taken off the queue: its id (the same on every delivery of it), the handle that
/// deletes it, and its body.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct MailQueue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl MailQueue {
    pub fn new(sqs: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            sqs,
            url: url.into(),
        }
    }

    pub fn client(&self) -> &aws_sdk_sqs::Client {
        &self.sqs
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Puts `job` on the queue: once this returns, the mail survives this instance.
    #[tracing::instrument(skip_all)]
    pub async fn enqueue(&self, job: &MailJob) -> Result<(), QueueError> {
        let body = serde_json::to_string(job).map_err(|e| QueueError(e.to_string()))?;
        self.sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| QueueError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }

    /// Up to ten messages, waiting at most `wait_secs` for the first (what Lambda's poller
    /// does for the `mailer` function; `make dev` and the tests drain the queue with it).
    pub async fn receive(&self, wait_secs: i32) -> Result<Vec<Received>, QueueError> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .wait_time_seconds(wait_secs)
            .send()
            .await
            .map_err(|e| QueueError(DisplayErrorContext(e).to_string()))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                Some(Received {
                    message_id: m.message_id?,
                    receipt_handle: m.receipt_handle?,
                    body: m.body?,
                })
            })
            .collect())
    }

    /// Deletes a message that was handled.
    pub async fn delete(&self, receipt_handle: &str) -> Result<(), QueueError> {
        self.sqs
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map_err(|e| QueueError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_names_the_address_and_the_source_and_nothing_secret() {
        let job = MailJob::SignInPin {
            email: "Ann@Example.com".into(),
            ip: "192.0.2.1".into(),
        };
        let json = serde_json::to_string(&job).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"sign_in_pin","email":"Ann@Example.com","ip":"192.0.2.1"}"#
        );
        assert_eq!(serde_json::from_str::<MailJob>(&json).unwrap(), job);
    }
}
