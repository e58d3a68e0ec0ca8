//! The audit trail: one item per event under the tenant, sorted by time, newest read first,
//! in the audit table (functions may add items there, never change or delete them). Events
//! are written in the transaction of the change they describe wherever there is one.

use super::attr::{self, get_n, get_s, s};
use super::throttle::ThrottleKey;
use super::{items, keys, Store, StoreError, Writes};
use crate::domain::{Action, AuditEvent, TenantId, Timestamp};
use aws_sdk_dynamodb::types::TransactWriteItem;
use rand::RngCore;

/// One event in the trail, as the audit view shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub actor_email: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub target_email: Option<String>,
    pub detail: Option<String>,
    pub source_ip: String,
    pub outcome: String,
    /// The MSP of the person who acted, when they acted in an organization it manages.
    pub via: Option<String>,
}

/// Which events an audit page keeps (none set: all).
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    /// An address, lower-case: events this person did or was the target of.
    pub person: Option<String>,
}

/// How long the trace of a failed sign-in for an unknown address is kept.
const UNREGISTERED_KEEP_SECS: i64 = 30 * 24 * 3600;

impl Store {
    /// The event as one element of a transaction, so that it is recorded exactly when the
    /// change it describes is.
    pub(super) fn audit_put(
        &self,
        event: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<TransactWriteItem, StoreError> {
        let it = items::audit(keys::tenant_pk(&event.tenant), event, rng);
        attr::put(&self.audit_table, it, "attribute_not_exists(pk)")
    }

    /// Records an event on its own (when no other write goes with it). Failures are logged,
    /// not returned: an unwritable audit line must not turn a sign-in into an error.
    pub async fn audit(&self, event: &AuditEvent) {
        let result = match self.audit_put(event, &mut rand::rngs::OsRng) {
            Ok(put) => self.transact(vec![put]).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, action = event.action.as_str(), "audit event not written");
        }
    }

    /// A failed sign-in for an address that belongs to nobody, as a write for the transaction
    /// that settles the guess: kept apart from every tenant (30 days), keyed by the hashed
    /// address, so that credential stuffing leaves a trace and the request costs what a
    /// registered address's failure costs.
    pub fn unregistered_failure_writes(
        &self,
        account: &ThrottleKey,
        source_ip: &str,
    ) -> Result<Writes, StoreError> {
        let event = AuditEvent {
            tenant: crate::domain::TenantId::nobody(),
            actor: account.as_str().to_owned(),
            action: Action::LoginPassword,
            target: None,
            actor_email: None,
            target_email: None,
            detail: None,
            source_ip: source_ip.to_owned(),
            outcome: "unregistered",
            via: None,
        };
        let mut it = items::audit(
            keys::UNREGISTERED_AUDIT_PK.to_owned(),
            &event,
            &mut rand::rngs::OsRng,
        );
        it.insert(
            super::table::TTL_ATTRIBUTE.to_owned(),
            attr::n(Timestamp::now().0 + UNREGISTERED_KEEP_SECS),
        );
        let put = attr::put(&self.audit_table, it, "attribute_not_exists(pk)")?;
        Ok(Writes(vec![put]))
    }

    /// Counts one more event of `scope` for `tid` and answers how many the last two windows of
    /// `window_secs` hold now (this one included): any span of `window_secs` lies within two
    /// consecutive windows, so a cap on this sum holds for every such span, not only inside
    /// fixed windows. For events that are counted always but written only up to a cap.
    pub async fn count_in_window(
        &self,
        scope: &str,
        tid: &TenantId,
        window_secs: i64,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let window_secs = window_secs.max(1);
        let window = now.0 / window_secs;
        let pk = |w: i64| keys::throttle_pk(scope, &format!("{}-{w}", tid.as_str()));
        let count = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(attr::key(pk(window), keys::THROTTLE_SK)))
            .update_expression("ADD n :one SET #ttl = :ttl")
            .expression_attribute_names("#ttl", super::table::TTL_ATTRIBUTE)
            .expression_attribute_values(":one", attr::n(1))
            // Kept while it is the current or the previous window.
            .expression_attribute_values(":ttl", attr::n((window + 2) * window_secs + 60))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send();
        let previous = self.get(pk(window - 1), keys::THROTTLE_SK);
        let (count, previous) = tokio::join!(count, previous);
        let current = count?.attributes().and_then(|a| get_n(a, "n")).unwrap_or(1);
        let before = previous?.and_then(|it| get_n(&it, "n")).unwrap_or(0);
        Ok(current + before)
    }

    /// Audit events of a tenant, newest first; `after` is the `next` cursor of the previous
    /// page. `filter` keeps only one action and/or the events a person (by address) did or
    /// was the target of; a page may then hold fewer than `limit` events, and `next` still
    /// says whether older ones exist.
    pub async fn audit_page(
        &self,
        tid: &TenantId,
        limit: i32,
        after: Option<&str>,
        filter: &AuditFilter,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let mut q = self
            .db
            .query()
            .table_name(&self.audit_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :audit)")
            .expression_attribute_values(":pk", s(keys::tenant_pk(tid)))
            .expression_attribute_values(":audit", s(keys::AUDIT_PREFIX))
            .scan_index_forward(false)
            .limit(limit);
        let mut conditions = Vec::new();
        if let Some(action) = &filter.action {
            conditions.push("#action = :action");
            q = q
                .expression_attribute_names("#action", "action")
                .expression_attribute_values(":action", s(action));
        }
        if let Some(person) = &filter.person {
            conditions.push("(actor_email = :person OR target_email = :person)");
            q = q.expression_attribute_values(":person", s(person));
        }
        if !conditions.is_empty() {
            q = q.filter_expression(conditions.join(" AND "));
        }
        if let Some(sk) = after.filter(|a| a.starts_with(keys::AUDIT_PREFIX)) {
            q = q
                .exclusive_start_key("pk", s(keys::tenant_pk(tid)))
                .exclusive_start_key("sk", s(sk));
        }
        let out = q.send().await?;
        let entries = out
            .items()
            .iter()
            .map(|it| AuditEntry {
                at: match get_n(it, "at_ms") {
                    Some(ms) => Timestamp::millis_to_rfc3339(ms),
                    None => Timestamp(get_n(it, "at").unwrap_or_default()).to_rfc3339(),
                },
                actor: get_s(it, "actor").unwrap_or_default().to_owned(),
                actor_email: get_s(it, "actor_email").map(str::to_owned),
                action: get_s(it, "action").unwrap_or_default().to_owned(),
                target: get_s(it, "target").map(str::to_owned),
                target_email: get_s(it, "target_email").map(str::to_owned),
                detail: get_s(it, "detail").map(str::to_owned),
                source_ip: get_s(it, "source_ip").unwrap_or_default().to_owned(),
                outcome: get_s(it, "outcome").unwrap_or_default().to_owned(),
                via: get_s(it, "via").map(str::to_owned),
            })
            .collect();
        let next = out
            .last_evaluated_key()
            .and_then(|k| k.get("sk"))
            .and_then(|v| v.as_s().ok())
            .cloned();
        Ok((entries, next))
    }
}
