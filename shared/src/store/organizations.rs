//! Managed organizations: an MSP's links to the organizations it manages (`TENANT#<msp>` /
//! `ORG#<oid>`), each organization's own tenant item (`parent` = the MSP), the MSP's limit,
//! and the scope of each of its people.

use super::attr::{self, item, key, n, s};
use super::{items, keys, Store, StoreError};
use crate::domain::organization::{NewOrganization, OrgScope};
use crate::domain::{AuditEvent, Email, TenantId, TenantRecord, UserId};
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum CreateOrgError {
    /// The MSP manages as many organizations as it may (or is no longer an MSP).
    #[error("the MSP manages as many organizations as it may")]
    LimitReached,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// A new organization under its MSP, in one transaction: the MSP's count below its limit
    /// (the condition that holds the limit under concurrent creates), the organization's
    /// tenant item, the MSP's link to it and the audit event.
    pub async fn create_organization(
        &self,
        org: &NewOrganization,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), CreateOrgError> {
        let count = attr::update(
            &self.table,
            key(keys::tenant_pk(&org.msp), keys::META),
            "SET org_count = if_not_exists(org_count, :zero) + :one",
            "attribute_exists(max_organizations) AND \
             (attribute_not_exists(org_count) OR org_count < max_organizations)",
            item([(":zero", n(0)), (":one", n(1))]),
        )?;
        let writes = vec![
            count,
            attr::put(
                &self.table,
                items::new_organization(org),
                "attribute_not_exists(pk)",
            )?,
            attr::put(
                &self.table,
                items::org_link(org),
                "attribute_not_exists(pk)",
            )?,
            self.audit_put(audit, rng)?,
        ];
        match self.transact(writes).await {
            Err(e) if e.failed_condition(0) => Err(CreateOrgError::LimitReached),
            other => Ok(other?),
        }
    }

    /// The organizations an MSP manages, by name: one query of its links, then one batch of
    /// their tenant items (a link whose organization is gone, a removal cut off midway, lists
    /// nothing).
    pub async fn list_organizations(
        &self,
        msp: &TenantId,
    ) -> Result<Vec<TenantRecord>, StoreError> {
        let query = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :org)")
            .expression_attribute_values(":pk", s(keys::tenant_pk(msp)))
            .expression_attribute_values(":org", s(keys::ORG_PREFIX))
            .consistent_read(true);
        let wanted = self
            .query_all(query)
            .await?
            .iter()
            .map(|it| {
                Ok((
                    keys::tenant_pk(&items::org_link_id(it)?),
                    keys::META.to_owned(),
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let mut orgs = self
            .get_many(wanted)
            .await?
            .values()
            .map(items::tenant)
            .collect::<Result<Vec<_>, _>>()?;
        orgs.sort_by_key(|t| (t.display_name().to_lowercase(), t.id.as_str().to_owned()));
        Ok(orgs)
    }

    /// Renames an organization of `msp`, audited; `Ok(false)` when `msp` manages no such
    /// organization.
    pub async fn rename_organization(
        &self,
        msp: &TenantId,
        oid: &TenantId,
        name: &str,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<bool, StoreError> {
        let change = attr::update(
            &self.table,
            key(keys::tenant_pk(oid), keys::META),
            "SET #name = :n, organisation_name = :n, gsi1sk = :g",
            "parent = :msp",
            item([
                (":n", s(name)),
                (":g", s(keys::tenant_gsi_sk(name, oid))),
                (":msp", s(msp.as_str())),
            ]),
        )?;
        self.audited_update(change, audit, rng).await
    }

    /// Removes an organization of `msp`: its link, its tenant item and the MSP's count in one
    /// transaction with the audit event (from then on nobody acts in it or signs in to it),
    /// then everything under it: its users with their email index entries, its single
    /// sign-on and platform configuration, its domain claims and the domains it verified.
    /// Its audit events stay. `Ok(false)` when `msp` manages no such organization.
    pub async fn remove_organization(
        &self,
        msp: &TenantId,
        oid: &TenantId,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<bool, StoreError> {
        let writes = vec![
            attr::delete(
                &self.table,
                key(keys::tenant_pk(msp), &keys::org_link_sk(oid)),
                "attribute_exists(pk)",
                attr::Item::new(),
            )?,
            attr::delete(
                &self.table,
                key(keys::tenant_pk(oid), keys::META),
                "parent = :msp",
                item([(":msp", s(msp.as_str()))]),
            )?,
            attr::update(
                &self.table,
                key(keys::tenant_pk(msp), keys::META),
                "SET org_count = org_count - :one",
                "org_count > :zero",
                item([(":one", n(1)), (":zero", n(0))]),
            )?,
            self.audit_put(audit, rng)?,
        ];
        match self.transact(writes).await {
            Ok(()) => {}
            Err(e) if e.failed_condition(0) || e.failed_condition(1) => return Ok(false),
            Err(e) => return Err(e),
        }
        self.delete_partition(oid).await?;
        Ok(true)
    }

    /// Everything left under a removed tenant's partition, and the items outside it that
    /// point into it (email index entries, verified domains, linked identities) while they
    /// still do. One request per item: a removal is rare, and a failure leaves the rest going.
    async fn delete_partition(&self, oid: &TenantId) -> Result<(), StoreError> {
        let query = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::tenant_pk(oid)))
            .consistent_read(true);
        let found = self.query_all(query).await?;
        let mut inside: Vec<(String, String)> = Vec::new();
        let mut outside: Vec<(String, String)> = Vec::new();
        for it in &found {
            let (Some(pk), Some(sk)) = (attr::get_s(it, "pk"), attr::get_s(it, "sk")) else {
                continue;
            };
            inside.push((pk.to_owned(), sk.to_owned()));
            if sk.starts_with(keys::USER_PREFIX) {
                if let Some(email) = attr::get_s(it, "email").and_then(|e| Email::parse(e).ok()) {
                    outside.push((keys::email_pk(&email), keys::EMAIL_SK.to_owned()));
                }
                if let Some(subject) = attr::get_s(it, "idp_subject") {
                    outside.push((keys::idp_pk_of_subject(subject), keys::IDP_SK.to_owned()));
                }
            }
            if let Some(domain) = sk.strip_prefix(keys::DOMAIN_PREFIX) {
                outside.push((keys::domain_pk(domain), keys::DOMAIN_SK.to_owned()));
            }
        }
        let ours = item([(":t", s(oid.as_str()))]);
        for (pk, sk) in inside.into_iter().chain(outside) {
            let mut delete = self
                .db
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(pk.clone(), &sk)));
            if !pk.starts_with("TENANT#") {
                delete = delete
                    .condition_expression("tid = :t")
                    .set_expression_attribute_values(Some(ours.clone()));
            }
            if let Err(e) = attr::condition_held(delete.send().await) {
                tracing::warn!(error = %e, "part of a removed organization was left behind");
            }
        }
        Ok(())
    }

    /// Where a person of an MSP may act, audited; `Ok(false)` if they are not (or no longer)
    /// a user of `msp`.
    pub async fn set_org_scope(
        &self,
        msp: &TenantId,
        uid: &UserId,
        scope: &OrgScope,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<bool, StoreError> {
        let change = attr::update(
            &self.table,
            key(keys::tenant_pk(msp), &keys::user_sk(uid)),
            "SET org_scope = :s",
            "attribute_exists(pk)",
            item([(":s", s(items::org_scope_value(scope)))]),
        )?;
        self.audited_update(change, audit, rng).await
    }

    /// Makes a tenant an MSP that may manage `max` organizations (or changes its limit);
    /// refused (Conflict) below the organizations it manages, for an organization that is
    /// itself managed, or for an unknown tenant.
    pub async fn set_msp(&self, tid: &TenantId, max: u32) -> Result<(), StoreError> {
        let res = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(tid), keys::META)))
            .update_expression(
                "SET max_organizations = :m, org_count = if_not_exists(org_count, :zero)",
            )
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(parent) AND \
                 (attribute_not_exists(org_count) OR org_count <= :m)",
            )
            .set_expression_attribute_values(Some(item([
                (":m", n(i64::from(max))),
                (":zero", n(0)),
            ])))
            .send()
            .await;
        if attr::condition_held(res)? {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                reasons: vec!["ConditionalCheckFailed".into()],
            })
        }
    }
}
