//! The DynamoDB tables, and the only module that speaks DynamoDB: everything outside
//! `store/` calls intent methods (`add_member`, `sign_in_writes`...) with domain types.
//! Audit events live in a table of their own (`PORTER_AUDIT_TABLE`) that functions may only
//! add to; everything else is in the main table (`PORTER_TABLE`).
//!
//! Every item has string keys `pk`/`sk`; one GSI (`gsi1pk`/`gsi1sk`) lists tenants; `ttl`
//! lets DynamoDB delete expired items (lazily: code checks expiry itself). Key formats are in
//! `keys.rs`, attribute names in `items.rs`, expression builders in `attr.rs`.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | tenant (standalone, MSP, or an organization an MSP manages) | `TENANT#<tid>` | `META` |
//! | an MSP's link to an organization it manages | `TENANT#<msp>` | `ORG#<oid>` |
//! | user | `TENANT#<tid>` | `USER#<uid>` |
//! | audit event (audit table) | `TENANT#<tid>` | `AUDIT#<ms>#<id>` |
//! | email index | `EMAIL#<email>` | `EMAIL` |
//! | one-time token | `TOKEN#<sha256>` | `TOKEN` |
//! | session | `SESSION#<sha256 of id>` | `SESSION` |
//! | throttle counter | `THROTTLE#<scope>#<sha256>` | `THROTTLE` |
//! | sign-in PIN | `PIN#<sha256 of the address>` | `PIN` |
//! | session, listed per user | (gsi1) `SESSIONS#<tid>#<uid>` | (gsi1) created at |
//! | device (a browser that completed a sign-in) | `DEVICE#<sha256 of cookie>` | `DEVICE` |
//! | device, listed per user (with the sessions) | (gsi1) `SESSIONS#<tid>#<uid>` | (gsi1) created at |
//! | single sign-on configuration | `TENANT#<tid>` | `SSO` |
//! | platform connection (metadata) | `TENANT#<tid>` | `PLATFORM` |
//! | email domain verified by a tenant | `DOMAIN#<domain>` | `DOMAIN` |
//! | a tenant's claim on a domain (challenge) | `TENANT#<tid>` | `DOMAIN#<domain>` |
//! | claim of a queued mail job | `JOB#<sha256 of the SQS message id>` | `JOB` |
//! | linked external identity | `IDP#<issuer>#<sub>` | `IDP` |
//! | sign-in at a provider, in flight | `OIDC#<sha256 of state>` | `OIDC` |
//! | OpenID client (app) | `CLIENT#<client id>` | `CLIENT` |
//! | OpenID client, listed | (gsi1) `CLIENTS` | (gsi1) name#id |
//! | authorization code (kept spent, to catch a replay) | `OAUTHCODE#<sha256>` | `CODE` |
//! | grant: one code's tokens (revoked on replay or reuse) | `GRANT#<grant id>` | `GRANT` |
//! | refresh token | `REFRESH#<sha256>` | `REFRESH` |
//! | a passkey's user, by its credential id | `PASSKEY#<credential id>` | `PASSKEY` |
//! | a passkey sign-in in flight (its challenge) | `PKCHAL#<sha256 of the challenge>` | `PKCHAL` |
//! | failed sign-in of an unknown address (audit table) | `AUDIT#unregistered` | `AUDIT#<ms>#<id>` |

mod attr;
pub mod audit;
pub mod devices;
pub mod domains;
pub mod fetch;
mod items;
pub mod jobs;
pub mod keys;
pub mod members;
pub mod oauth;
pub mod organizations;
pub mod passkeys;
pub mod pins;
pub mod platform;
pub mod sessions;
pub mod sso;
pub mod table;
pub mod tenants;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod throttle;
pub mod tokens;
pub mod users;

use attr::{key, Item};
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::KeysAndAttributes;
use aws_sdk_dynamodb::types::TransactWriteItem;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition of a write failed: someone else got there first, or the state is not
    /// what the caller expected. `reasons` holds one code per item of a transaction.
    #[error("a write condition failed ({reasons:?})")]
    Conflict { reasons: Vec<String> },
    #[error("dynamodb request failed: {0}")]
    Sdk(String),
    #[error("stored item is malformed: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether item `index` of a cancelled transaction failed its condition.
    pub fn failed_condition(&self, index: usize) -> bool {
        matches!(self, Self::Conflict { reasons } if reasons.get(index).is_some_and(|r| r == "ConditionalCheckFailed"))
    }
}

impl<E, R> From<SdkError<E, R>> for StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    fn from(e: SdkError<E, R>) -> Self {
        Self::Sdk(DisplayErrorContext(e).to_string())
    }
}

impl From<aws_sdk_dynamodb::error::BuildError> for StoreError {
    fn from(e: aws_sdk_dynamodb::error::BuildError) -> Self {
        Self::Sdk(e.to_string())
    }
}

/// Writes that go into the transaction settling a guess ([`Store::settle`]), so that what a
/// right or wrong guess leads to is written exactly when its attempt is counted. Only store
/// methods build them.
#[derive(Debug, Default, Clone)]
pub struct Writes(Vec<TransactWriteItem>);

impl Writes {
    pub fn none() -> Self {
        Self::default()
    }

    /// These writes, then `more` (whose indices follow these).
    pub fn and(mut self, more: Writes) -> Self {
        self.0.extend(more.0);
        self
    }
}

/// The table and the client, built once per cold start.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
    /// Audit events live in their own table, to which functions may only add items: IAM can
    /// forbid updating or deleting them there, which it cannot for a sort-key prefix.
    pub(crate) audit_table: String,
}

impl Store {
    pub fn new(
        db: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        audit_table: impl Into<String>,
    ) -> Self {
        Self {
            db,
            table: table.into(),
            audit_table: audit_table.into(),
        }
    }

    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// One item by its keys, read consistently.
    pub(crate) async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item)
    }

    /// Every item the GSI lists under `gsi1pk` (tenants, clients), sorted by `gsi1sk`.
    pub(crate) async fn listed(&self, gsi1pk: &str) -> Result<Vec<Item>, StoreError> {
        let query = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(table::GSI1)
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", attr::s(gsi1pk));
        self.query_all(query).await
    }

    /// Every item a query matches, following pages.
    pub(crate) async fn query_all(
        &self,
        query: QueryFluentBuilder,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = query.clone().set_exclusive_start_key(start).send().await?;
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return Ok(items);
            }
        }
    }

    /// Deletes the item at `k` if it is `user`'s (its `tid` and `uid`) and `also` holds (an
    /// extra clause on `values`, or empty): `Ok(false)` when it is not theirs, or gone.
    pub(crate) async fn delete_of(
        &self,
        k: Item,
        user: &crate::domain::UserRecord,
        also: &str,
        mut values: Item,
    ) -> Result<bool, StoreError> {
        values.insert(":t".into(), attr::s(user.tenant.as_str()));
        values.insert(":u".into(), attr::s(user.id.as_str()));
        let res = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(k))
            .condition_expression(format!("tid = :t AND uid = :u{also}"))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        attr::condition_held(res)
    }

    /// Runs a transaction; a cancellation becomes [`StoreError::Conflict`] with its reasons.
    pub(crate) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        match self
            .db
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match err.into_service_error() {
                TransactWriteItemsError::TransactionCanceledException(e) => {
                    Err(StoreError::Conflict {
                        reasons: e
                            .cancellation_reasons()
                            .iter()
                            .map(|r| r.code().unwrap_or("None").to_owned())
                            .collect(),
                    })
                }
                other => Err(StoreError::Sdk(DisplayErrorContext(other).to_string())),
            },
        }
    }
}

/// How often a batch read asks again for keys DynamoDB left unprocessed before it gives up
/// (and the caller refuses: a throttle that cannot be read fails closed).
const UNPROCESSED_ROUNDS: usize = 5;

impl Store {
    /// Items by their keys, read consistently in one request, keyed by `(pk, sk)`; missing
    /// items are absent. Keys DynamoDB leaves unprocessed are asked for again (never read as
    /// missing); if they stay unprocessed the read fails.
    pub(crate) async fn get_many(
        &self,
        mut wanted: Vec<(String, String)>,
    ) -> Result<HashMap<(String, String), Item>, StoreError> {
        let mut found = HashMap::new();
        wanted.sort();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(found);
        }
        let mut ka = KeysAndAttributes::builder().consistent_read(true);
        for (pk, sk) in wanted {
            ka = ka.keys(key(pk, &sk));
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
                let pk = attr::get_s(&it, "pk").map(str::to_owned);
                let sk = attr::get_s(&it, "sk").map(str::to_owned);
                if let (Some(pk), Some(sk)) = (pk, sk) {
                    found.insert((pk, sk), it);
                }
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|ka| !ka.keys().is_empty());
        }
        if pending.is_some() {
            return Err(StoreError::Sdk("keys left unprocessed".to_owned()));
        }
        Ok(found)
    }
}
