//! Throttle counters: `THROTTLE#<scope>#<sha256 of key>`, expiring with their window. The rule
//! (when an attempt may be taken, and on what condition) is pure, in `domain::throttle`; this
//! module carries it out with conditional writes.

use super::attr::{get_n, key, n, s, update, Item};
use super::{keys, Store, StoreError, Writes};
use crate::domain::throttle::{Counter, Guard, Policy};
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

pub(super) fn counter(it: &Item) -> Counter {
    Counter {
        attempts: get_n(it, "attempts")
            .and_then(|f| u32::try_from(f).ok())
            .unwrap_or(0),
        window_start: get_n(it, "window_start").unwrap_or(0),
        next_at: get_n(it, "next_at").unwrap_or(0),
    }
}

/// What happens to a counter when a judged guess is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settle {
    /// A wrong guess (or a right one that does not reset this counter): one attempt more.
    Take,
    /// A right guess: the counter starts afresh, on the same guard (the attempt was allowed).
    Clear,
}

/// How a settlement of a guess went.
#[derive(Debug)]
pub enum Settled {
    Done,
    /// A counter's guard failed: another request moved it first. Read again, decide again.
    LostRace,
    /// Element `index` of the writes that went with it failed its condition; nothing was
    /// written.
    Refused {
        index: usize,
    },
}

/// The condition under which an attempt on a counter is allowed, and its values.
fn guard_condition(guard: Guard) -> (&'static str, Item) {
    let pairs: Vec<(&str, i64)> = match guard {
        Guard::Absent => return ("attribute_not_exists(pk)", Item::new()),
        Guard::Window { start } => vec![(":seen_start", start)],
        Guard::FreeBelow { start, below } => {
            vec![(":seen_start", start), (":below", i64::from(below))]
        }
        Guard::Exactly { start, attempts } => {
            vec![(":seen_start", start), (":seen", i64::from(attempts))]
        }
    };
    let condition = match guard {
        Guard::FreeBelow { .. } => "window_start = :seen_start AND attempts < :below",
        Guard::Exactly { .. } => "window_start = :seen_start AND attempts = :seen",
        _ => "window_start = :seen_start",
    };
    let values = pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), n(v)))
        .collect();
    (condition, values)
}

impl Store {
    /// The counters for `keys`, read consistently in one request (`None`: no counter yet).
    pub async fn get_counters(
        &self,
        keys: &[&ThrottleKey],
    ) -> Result<Vec<Option<Counter>>, StoreError> {
        let wanted = keys
            .iter()
            .map(|k| (k.as_str().to_owned(), keys::THROTTLE_SK.to_owned()))
            .collect();
        let mut found = self.get_many(wanted).await?;
        Ok(keys
            .iter()
            .map(|k| {
                found
                    .remove(&(k.as_str().to_owned(), keys::THROTTLE_SK.to_owned()))
                    .as_ref()
                    .map(counter)
            })
            .collect())
    }

    /// Settles a judged guess in one transaction: each counter taken or cleared under its
    /// guard, together with `then` (the session, the spent code, the audit event the guess
    /// leads to). Nothing of it is written unless all of it is.
    pub async fn settle(
        &self,
        counters: &[(&ThrottleKey, &Policy, Guard, Counter, Settle)],
        then: Writes,
    ) -> Result<Settled, StoreError> {
        let mut writes = counters
            .iter()
            .map(|(k, policy, guard, next, settle)| match settle {
                Settle::Take => self.take_write(k, policy, *guard, next),
                Settle::Clear => {
                    let (condition, values) = guard_condition(*guard);
                    let k = key(k.as_str().to_owned(), keys::THROTTLE_SK);
                    super::attr::delete(&self.table, k, condition, values)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        writes.extend(then.0);
        match self.transact(writes).await {
            Ok(()) => Ok(Settled::Done),
            Err(StoreError::Conflict { reasons }) => {
                let failed = |r: &String| r == "ConditionalCheckFailed";
                if let Some(i) = reasons.iter().skip(counters.len()).position(failed) {
                    return Ok(Settled::Refused { index: i });
                }
                // DynamoDB cancels a transaction that meets another on the same item
                // ("TransactionConflict"): for counters that is a lost race too.
                let raced = |r: &String| failed(r) || r == "None" || r == "TransactionConflict";
                if reasons.iter().all(raced) {
                    return Ok(Settled::LostRace);
                }
                Err(StoreError::Conflict { reasons })
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
        if let Guard::FreeBelow { .. } = guard {
            // Any number of requests may take a free place at once: the count only grows,
            // and the condition stops it at the limit.
            let (condition, mut values) = guard_condition(guard);
            values.insert(":one".to_owned(), n(1));
            return update(table, k, "ADD attempts :one", condition, values);
        }
        let (condition, seen) = guard_condition(guard);
        values.extend(seen);
        update(table, k, whole, condition, values)
    }
}
