//! The audit trail: one item per event under the tenant, sorted by time, newest read first.

use super::attr::{item, n, s};
use super::{keys, StoreError};
use crate::domain::{TenantId, Timestamp};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use rand::RngCore;

#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub tenant: TenantId,
    pub at: Timestamp,
    /// Who acted: a user id, `operator`, or `anonymous`.
    pub actor: String,
    /// What happened, e.g. `tenant.create`, `user.activate`, `invitation.resend`.
    pub action: &'static str,
    /// Whom it concerned (a user id), if anyone.
    pub target: Option<String>,
    pub source_ip: String,
    pub outcome: &'static str,
}

/// Milliseconds since the epoch, strictly increasing within this process, so that events
/// written together (or within one millisecond) keep the order they were made in.
fn now_millis() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = wall.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

impl AuditEvent {
    /// An event about `user`, done by themselves, from `source_ip`, now.
    pub fn by_user(
        user: &crate::store::UserRecord,
        action: &'static str,
        outcome: &'static str,
        source_ip: &str,
    ) -> Self {
        Self {
            tenant: user.tenant.clone(),
            at: Timestamp::now(),
            actor: user.id.to_string(),
            action,
            target: Some(user.id.to_string()),
            source_ip: source_ip.to_owned(),
            outcome,
        }
    }

    /// The audit item as one element of a transaction, so that an event is recorded exactly
    /// when the change it describes is.
    pub fn transact_put(
        &self,
        table: &str,
        rng: &mut impl RngCore,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut id = [0u8; 6];
        rng.fill_bytes(&mut id);
        let mut it = item([
            ("pk", s(keys::tenant_pk(&self.tenant))),
            // Milliseconds, so that events of the same second still read in order.
            (
                "sk",
                s(format!("AUDIT#{:013}#{}", now_millis(), hex::encode(id))),
            ),
            ("entity", s("audit")),
            ("at", n(self.at.0)),
            ("actor", s(&self.actor)),
            ("action", s(self.action)),
            ("source_ip", s(&self.source_ip)),
            ("outcome", s(self.outcome)),
        ]);
        if let Some(t) = &self.target {
            it.insert("target".into(), s(t));
        }
        Ok(TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(table)
                    .set_item(Some(it))
                    .build()?,
            )
            .build())
    }
}

impl super::Store {
    /// Records an event on its own (when no other write goes with it). Failures are logged,
    /// not returned: an unwritable audit line must not turn a sign-in into an error.
    pub async fn audit(&self, event: &AuditEvent) {
        let put = event.transact_put(&self.table, &mut rand::rngs::OsRng);
        let result = match put {
            Ok(item) => self.transact(vec![item]).await,
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, action = event.action, "audit event not written");
        }
    }

    /// A failed sign-in for an address that belongs to nobody: kept apart from every tenant
    /// (30 days), keyed by the hashed address, so that credential stuffing leaves a trace and
    /// the request costs what a registered address's failure costs.
    pub async fn audit_unregistered_failure(
        &self,
        account: &super::throttle::ThrottleKey,
        source_ip: &str,
    ) {
        let mut id = [0u8; 6];
        rand::rngs::OsRng.fill_bytes(&mut id);
        let it = item([
            ("pk", s("AUDIT#unregistered")),
            (
                "sk",
                s(format!("AUDIT#{:013}#{}", now_millis(), hex::encode(id))),
            ),
            ("entity", s("audit")),
            ("at", n(Timestamp::now().0)),
            ("actor", s(account.as_str())),
            ("action", s("login.password")),
            ("source_ip", s(source_ip)),
            ("outcome", s("unregistered")),
            (
                super::table::TTL_ATTRIBUTE,
                n(Timestamp::now().0 + 30 * 24 * 3600),
            ),
        ]);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(it))
            .build();
        let result = match put {
            Ok(p) => {
                self.transact(vec![TransactWriteItem::builder().put(p).build()])
                    .await
            }
            Err(e) => Err(e.into()),
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "audit event not written");
        }
    }
}
