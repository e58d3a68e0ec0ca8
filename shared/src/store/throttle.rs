//! Throttle counters: `THROTTLE#<scope>#<sha256 of key>`, expiring with their window. The rule
//! (when an attempt may be taken, and on what condition) is pure, in `domain::throttle`; this
//! module carries it out with conditional writes.

use super::attr::{get_n, key, n, s, update, Item};
use super::{keys, Store, StoreError};
use crate::domain::throttle::{Counter, Guard, Policy};
use aws_sdk_dynamodb::types::KeysAndAttributes;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

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
        attempts: get_n(it, "attempts")
            .and_then(|f| u32::try_from(f).ok())
            .unwrap_or(0),
        window_start: get_n(it, "window_start").unwrap_or(0),
        next_at: get_n(it, "next_at").unwrap_or(0),
    }
}

/// How often a read of counters asks again for keys DynamoDB left unprocessed before it gives
/// up (and the caller refuses: a throttle that cannot be read fails closed).
const UNPROCESSED_ROUNDS: usize = 5;

impl Store {
    /// The counters for `keys`, read consistently in one request (`None`: no counter yet).
    /// Keys DynamoDB leaves unprocessed are asked for again, never read as zero.
    pub async fn get_counters(
        &self,
        keys: &[&ThrottleKey],
    ) -> Result<Vec<Option<Counter>>, StoreError> {
        let mut found: HashMap<String, Counter> = HashMap::new();
        let mut ka = KeysAndAttributes::builder().consistent_read(true);
        for k in keys {
            ka = ka.keys(key(k.0.clone(), keys::THROTTLE_SK));
        }
        let mut pending = Some(ka.build()?);
        for round in 0..UNPROCESSED_ROUNDS {
            let Some(ask) = pending.take() else { break };
            if round > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20 << round)).await;
            }
            let out = self
                .db
                .batch_get_item()
                .request_items(&self.table, ask)
                .send()
                .await?;
            for it in out
                .responses
                .and_then(|mut r| r.remove(&self.table))
                .unwrap_or_default()
            {
                if let Some(pk) = it.get("pk").and_then(|v| v.as_s().ok()) {
                    found.insert(pk.clone(), counter(&it));
                }
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|ka| !ka.keys().is_empty());
        }
        if pending.is_some() {
            return Err(StoreError::Sdk(
                "throttle counters left unprocessed".to_owned(),
            ));
        }
        Ok(keys.iter().map(|k| found.get(&k.0).copied()).collect())
    }

    /// Takes one attempt on every counter at once, each under its guard: `Ok(false)` when any
    /// guard failed (another request got there first; read again and decide again).
    pub async fn take_attempts(
        &self,
        takes: &[(&ThrottleKey, &Policy, Guard, Counter)],
    ) -> Result<bool, StoreError> {
        let writes = takes
            .iter()
            .map(|(k, policy, guard, next)| self.take_write(k, policy, *guard, next))
            .collect::<Result<Vec<_>, _>>()?;
        match self.transact(writes).await {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict { reasons })
                if reasons
                    .iter()
                    .all(|r| r == "ConditionalCheckFailed" || r == "None") =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    fn take_write(
        &self,
        k: &ThrottleKey,
        policy: &Policy,
        guard: Guard,
        next: &Counter,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        let k = key(k.0.clone(), keys::THROTTLE_SK);
        let table = &self.table;
        let whole = "SET entity = :entity, attempts = :attempts, window_start = :start, \
                     next_at = :next, #ttl = :ttl";
        let mut values: Item = [
            (":entity", s("throttle")),
            (":attempts", n(i64::from(next.attempts))),
            (":start", n(next.window_start)),
            (":next", n(next.next_at)),
            (":ttl", n(policy.keep_until(next))),
        ]
        .into_iter()
        .map(|(a, v)| (a.to_owned(), v))
        .collect();
        match guard {
            Guard::Absent => update(table, k, whole, "attribute_not_exists(pk)", values),
            Guard::Window { start } => {
                values.insert(":seen_start".into(), n(start));
                update(table, k, whole, "window_start = :seen_start", values)
            }
            Guard::FreeBelow { start, below } => update(
                table,
                k,
                "ADD attempts :one",
                "window_start = :seen_start AND attempts < :below",
                [
                    (":one".to_owned(), n(1)),
                    (":seen_start".to_owned(), n(start)),
                    (":below".to_owned(), n(i64::from(below))),
                ]
                .into_iter()
                .collect(),
            ),
            Guard::Exactly { start, attempts } => {
                values.insert(":seen_start".into(), n(start));
                values.insert(":seen".into(), n(i64::from(attempts)));
                update(
                    table,
                    k,
                    whole,
                    "window_start = :seen_start AND attempts = :seen",
                    values,
                )
            }
        }
    }

    /// After a success the counters start afresh.
    pub async fn clear_counters(&self, keys: &[&ThrottleKey]) -> Result<(), StoreError> {
        for k in keys {
            self.db
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(k.0.clone(), keys::THROTTLE_SK)))
                .send()
                .await?;
        }
        Ok(())
    }
}
