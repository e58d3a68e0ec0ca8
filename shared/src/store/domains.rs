//! Verified domains: a tenant's claims (`TENANT#<tid>` / `DOMAIN#<domain>`: the challenge and
//! whether it was proved) and the one owner of each verified domain (`DOMAIN#<domain>` /
//! `DOMAIN`), which is what routes an address to a provider. Verifying writes both in one
//! transaction, on condition that no other tenant verified the domain first.

use super::attr::{self, item, key, n, s};
use super::{items, keys, Store, StoreError};
use crate::domain::{AuditEvent, DomainClaim, TenantId, Timestamp, VerifiedBy};
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Another tenant verified the domain first.
    #[error("another organisation verified the domain")]
    Taken,
    /// The tenant's configuration names the domain (or changed since it was read).
    #[error("the single sign-on configuration uses the domain")]
    InUse,
    /// The tenant holds no claim on the domain (or it changed meanwhile).
    #[error("no such domain")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The tenant's domains, verified or not, sorted by name.
    pub async fn list_domains(&self, tid: &TenantId) -> Result<Vec<DomainClaim>, StoreError> {
        let query = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :domain)")
            .expression_attribute_values(":pk", s(keys::tenant_pk(tid)))
            .expression_attribute_values(":domain", s(keys::DOMAIN_PREFIX))
            .consistent_read(true);
        self.query_all(query)
            .await?
            .iter()
            .map(items::domain_claim_record)
            .collect()
    }

    pub async fn get_domain_claim(
        &self,
        tid: &TenantId,
        domain: &str,
    ) -> Result<Option<DomainClaim>, StoreError> {
        self.get(keys::tenant_pk(tid), &keys::domain_claim_sk(domain))
            .await?
            .as_ref()
            .map(items::domain_claim_record)
            .transpose()
    }

    /// Adds a claim with its audit event; `false` when the tenant already holds one.
    pub async fn add_domain(
        &self,
        tid: &TenantId,
        claim: &DomainClaim,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<bool, StoreError> {
        let put = attr::put(
            &self.table,
            items::domain_claim(tid, claim),
            "attribute_not_exists(pk)",
        )?;
        match self.transact(vec![put, self.audit_put(audit, rng)?]).await {
            Ok(()) => Ok(true),
            Err(e) if e.failed_condition(0) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Marks `claim` verified and makes the tenant the domain's one owner. A proof by DNS holds
    /// only for the challenge it checked (the claim must still hold that value); the operator's
    /// word creates the claim when there is none. A route left from before verification (no
    /// `verified_by`) is taken over.
    pub async fn verify_domain(
        &self,
        tid: &TenantId,
        claim: &DomainClaim,
        by: VerifiedBy,
        now: Timestamp,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<DomainClaim, DomainError> {
        let verified = DomainClaim {
            verified: Some((by, now)),
            ..claim.clone()
        };
        let claim_write = match by {
            VerifiedBy::Dns => attr::put_if(
                &self.table,
                items::domain_claim(tid, &verified),
                "txt_value = :txt",
                item([(":txt", s(claim.txt_value.as_str()))]),
            )?,
            VerifiedBy::Operator => {
                attr::put_new(&self.table, items::domain_claim(tid, &verified))?
            }
        };
        let route = attr::put_if(
            &self.table,
            items::domain_route(&claim.domain, tid, by, now),
            "attribute_not_exists(pk) OR tid = :tid OR attribute_not_exists(verified_by)",
            item([(":tid", s(tid.as_str()))]),
        )?;
        match self
            .transact(vec![claim_write, route, self.audit_put(audit, rng)?])
            .await
        {
            Ok(()) => Ok(verified),
            Err(e) if e.failed_condition(0) => Err(DomainError::NotFound),
            Err(e) if e.failed_condition(1) => Err(DomainError::Taken),
            Err(e) => Err(e.into()),
        }
    }

    /// Releases a claim (and the domain, when this tenant verified it), on condition that the
    /// single sign-on configuration is still the `sso_version` the caller found not using it.
    pub async fn remove_domain(
        &self,
        tid: &TenantId,
        claim: &DomainClaim,
        sso_version: i64,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), DomainError> {
        let mut writes = vec![attr::delete(
            &self.table,
            key(keys::tenant_pk(tid), &keys::domain_claim_sk(&claim.domain)),
            "attribute_exists(pk)",
            item([]),
        )?];
        let sso_key = key(keys::tenant_pk(tid), keys::SSO_SK);
        writes.push(if sso_version == 0 {
            attr::check(&self.table, sso_key, "attribute_not_exists(pk)", item([]))?
        } else {
            attr::check(
                &self.table,
                sso_key,
                "version = :v",
                item([(":v", n(sso_version))]),
            )?
        });
        if claim.is_verified() {
            writes.push(attr::delete(
                &self.table,
                key(keys::domain_pk(&claim.domain), keys::DOMAIN_SK),
                "tid = :tid",
                item([(":tid", s(tid.as_str()))]),
            )?);
        }
        writes.push(self.audit_put(audit, rng)?);
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(e) if e.failed_condition(0) => Err(DomainError::NotFound),
            Err(e) if e.failed_condition(1) => Err(DomainError::InUse),
            Err(e) => Err(e.into()),
        }
    }
}
