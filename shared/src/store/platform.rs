//! The platform connection (metadata only: the key is in Secrets Manager) and the tenant's
//! entitlements, which the last successful license check stored on the tenant item.

use super::attr::{self, item, key, s};
use super::{keys, Store, StoreError};
use crate::domain::{AuditEvent, Entitlements, PlatformConfig, TenantId};
use rand::RngCore;

impl Store {
    pub async fn get_platform(&self, tid: &TenantId) -> Result<Option<PlatformConfig>, StoreError> {
        self.get(keys::tenant_pk(tid), keys::PLATFORM_SK)
            .await?
            .as_ref()
            .map(super::items::platform)
            .transpose()
    }

    /// Stores the connection with its audit event.
    pub async fn put_platform(
        &self,
        tid: &TenantId,
        config: &PlatformConfig,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), StoreError> {
        let it = item([
            ("pk", s(keys::tenant_pk(tid))),
            ("sk", s(keys::PLATFORM_SK)),
            ("entity", s("platform")),
            (
                "config",
                s(serde_json::to_string(config).unwrap_or_default()),
            ),
        ]);
        self.transact(vec![
            attr::put_new(&self.table, it)?,
            self.audit_put(audit, rng)?,
        ])
        .await
    }

    /// The entitlements of a successful check, with its audit event.
    pub async fn set_entitlements(
        &self,
        tid: &TenantId,
        entitlements: &Entitlements,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(entitlements).unwrap_or_default();
        self.transact(vec![
            attr::update(
                &self.table,
                key(keys::tenant_pk(tid), keys::META),
                "SET entitlements = :e",
                "attribute_exists(pk)",
                item([(":e", s(json))]),
            )?,
            self.audit_put(audit, rng)?,
        ])
        .await
    }
}
