//! Throttle counters: `THROTTLE#<scope>#<sha256 of key>`, expiring with their window. The rule
//! (how failures turn into delays and locks) is pure, in `domain::throttle`.

use super::attr::{condition_held, get_n, item, key, n, s, Item};
use super::table::TTL_ATTRIBUTE;
use super::{keys, Store, StoreError};
use crate::domain::throttle::{Counter, Policy};
use crate::domain::Timestamp;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use sha2::{Digest, Sha256};

/// A counter's address. Keys are hashed: an email typed at sign-in is not stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ThrottleKey(String);

impl ThrottleKey {
    /// The stored key (`THROTTLE#<scope>#<sha256>`): names the account without its address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn new(scope: &str, raw: &str) -> Self {
        Self(keys::throttle_pk(
            scope,
            &hex::encode(Sha256::digest(raw.as_bytes())),
        ))
    }
}

fn counter(it: &Item) -> Counter {
    Counter {
        failures: get_n(it, "failures")
            .and_then(|f| u32::try_from(f).ok())
            .unwrap_or(0),
        window_start: get_n(it, "window_start").unwrap_or(0),
        blocked_until: get_n(it, "blocked_until").unwrap_or(0),
    }
}

impl Store {
    /// The counters for `keys`, in one request (missing ones are fresh).
    pub async fn get_counters(&self, keys: &[&ThrottleKey]) -> Result<Vec<Counter>, StoreError> {
        let mut ka = KeysAndAttributes::builder().consistent_read(true);
        for k in keys {
            ka = ka.keys(key(k.0.clone(), keys::THROTTLE_SK));
        }
        let out = self
            .db
            .batch_get_item()
            .request_items(&self.table, ka.build()?)
            .send()
            .await?;
        let items = out
            .responses
            .and_then(|mut r| r.remove(&self.table))
            .unwrap_or_default();
        Ok(keys
            .iter()
            .map(|k| {
                items
                    .iter()
                    .find(|it| it.get("pk").and_then(|v| v.as_s().ok()) == Some(&k.0))
                    .map(counter)
                    .unwrap_or_default()
            })
            .collect())
    }

    /// Counts one failure and returns the new counter. Read-modify-write with a condition on
    /// the count read, retried, so that concurrent failures are all counted. `seen` is the
    /// counter as the caller last read it, if it did.
    pub async fn record_failure(
        &self,
        k: &ThrottleKey,
        policy: &Policy,
        now: Timestamp,
        seen: Option<Counter>,
    ) -> Result<Counter, StoreError> {
        let mut seen = seen;
        for _ in 0..5 {
            // The counter the caller already read saves a request; after a lost race, re-read.
            let current = match seen.take() {
                Some(c) => c,
                None => self.get_counters(&[k]).await?.pop().unwrap_or_default(),
            };
            let next = policy.fail(current, now);
            let keep_until = next
                .blocked_until
                .max(next.window_start + policy.window_secs);
            let it = item([
                ("pk", s(k.0.clone())),
                ("sk", s(keys::THROTTLE_SK)),
                ("entity", s("throttle")),
                ("failures", n(i64::from(next.failures))),
                ("window_start", n(next.window_start)),
                ("blocked_until", n(next.blocked_until)),
                (TTL_ATTRIBUTE, n(keep_until)),
            ]);
            let res = self
                .db
                .put_item()
                .table_name(&self.table)
                .set_item(Some(it))
                .condition_expression("attribute_not_exists(pk) OR failures = :seen")
                .expression_attribute_values(":seen", n(i64::from(current.failures)))
                .send()
                .await;
            if condition_held(res)? {
                return Ok(next);
            }
        }
        Err(StoreError::Conflict {
            reasons: vec!["throttle counter contended".into()],
        })
    }

    /// After a success: the account starts afresh (the source address does not).
    pub async fn clear_counter(&self, k: &ThrottleKey) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(k.0.clone(), keys::THROTTLE_SK)))
            .send()
            .await?;
        Ok(())
    }
}
