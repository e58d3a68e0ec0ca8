//! Claims of queued mail jobs: `JOB#<sha256 of the SQS message id>` / `JOB`, kept a day (SQS
//! keeps a message four days at most, and delivers a message twice only rarely and soon).

use super::attr::{item, key, n, s};
use super::table::TTL_ATTRIBUTE;
use super::{Store, StoreError};
use crate::domain::time::DAY;
use crate::domain::{Timestamp, TokenHash};

const JOB_SK: &str = "JOB";

fn job_pk(message_id: &str) -> String {
    format!("JOB#{}", TokenHash::digest(message_id).as_str())
}

impl Store {
    /// Claims the job of SQS message `message_id`: `Ok(true)` for the first claim only.
    pub async fn claim_job(&self, message_id: &str, now: Timestamp) -> Result<bool, StoreError> {
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item([
                ("pk", s(job_pk(message_id))),
                ("sk", s(JOB_SK)),
                ("entity", s("job")),
                ("claimed_at", n(now.0)),
                (TTL_ATTRIBUTE, n(now.plus_secs(DAY).0)),
            ])))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        super::attr::condition_held(res)
    }

    /// Gives a claim back (the job failed; SQS will deliver it again).
    pub async fn release_job(&self, message_id: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(job_pk(message_id), JOB_SK)))
            .send()
            .await?;
        Ok(())
    }
}
