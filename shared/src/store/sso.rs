//! Single sign-on: a tenant's configuration (one item, versioned), the email domains routed to
//! it (one `DOMAIN#` item each, which makes a domain belong to one tenant at most), sign-ins
//! in flight at a provider (`OIDC#`, single use) and linked identities (`IDP#`).

use super::attr::{self, get_s, item, key, n, s, Item};
use super::{items, keys, Store, StoreError};
use crate::domain::{AuditEvent, SsoState, TenantId, TenantSso, UserRecord, UserStatus};
use aws_sdk_dynamodb::types::ReturnValue;
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum SsoSaveError {
    #[error("the domain {0} belongs to another organisation")]
    DomainTaken(String),
    /// The configuration changed since it was read.
    #[error("the configuration changed meanwhile")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The tenant's configuration and its version (0 and the default when none was saved).
    pub async fn get_sso(&self, tid: &TenantId) -> Result<(TenantSso, i64), StoreError> {
        match self.get(keys::tenant_pk(tid), keys::SSO_SK).await? {
            Some(it) => items::tenant_sso(&it),
            None => Ok((TenantSso::default(), 0)),
        }
    }

    /// The tenant an email domain is routed to, if any.
    pub async fn tenant_for_domain(&self, domain: &str) -> Result<Option<TenantId>, StoreError> {
        self.get(keys::domain_pk(domain), keys::DOMAIN_SK)
            .await?
            .as_ref()
            .map(items::tenant_of)
            .transpose()
    }

    /// Stores `sso` over version `version`, claims the domains it names and releases those it
    /// no longer does, with the audit event: all or nothing.
    pub async fn save_sso(
        &self,
        tid: &TenantId,
        previous: &TenantSso,
        sso: &TenantSso,
        version: i64,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), SsoSaveError> {
        let claimed = sso.claimed_domains();
        let released: Vec<String> = previous
            .claimed_domains()
            .into_iter()
            .filter(|d| !claimed.contains(d))
            .collect();
        let config_item = items::tenant_sso_item(tid, sso, version + 1);
        let config = if version == 0 {
            attr::put(&self.table, config_item, "attribute_not_exists(pk)")?
        } else {
            attr::put_if(
                &self.table,
                config_item,
                "version = :v",
                item([(":v", n(version))]),
            )?
        };
        let mut writes = vec![config];
        for d in &claimed {
            writes.push(attr::put_if(
                &self.table,
                items::domain_route(d, tid),
                "attribute_not_exists(pk) OR tid = :tid",
                item([(":tid", s(tid.as_str()))]),
            )?);
        }
        for d in &released {
            writes.push(attr::delete(
                &self.table,
                key(keys::domain_pk(d), keys::DOMAIN_SK),
                "tid = :tid",
                item([(":tid", s(tid.as_str()))]),
            )?);
        }
        writes.push(self.audit_put(audit, rng)?);
        match self.transact(writes).await {
            Err(e) if e.failed_condition(0) => Err(SsoSaveError::Stale),
            Err(e) => match (1..=claimed.len()).find(|i| e.failed_condition(*i)) {
                Some(i) => Err(SsoSaveError::DomainTaken(claimed[i - 1].clone())),
                None => Err(e.into()),
            },
            Ok(()) => Ok(()),
        }
    }

    pub async fn put_sso_state(&self, st: &SsoState) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(items::sso_state(st)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// Takes a sign-in in flight out of the table: whoever deletes it first gets it, so a
    /// `state` works once.
    pub async fn take_sso_state(&self, state_hash: &str) -> Result<Option<SsoState>, StoreError> {
        let res = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::oidc_pk(state_hash), keys::OIDC_SK)))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let out = match res {
            Ok(out) => out,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        };
        out.attributes
            .map(|it| items::sso_state_record(state_hash, &it))
            .transpose()
    }

    /// Links an external identity to `user` on its first sign-in, on condition that the user
    /// has no identity from this issuer yet (another `sub` presenting the same address is
    /// refused) and is still as read; an invited user becomes active. A
    /// [`StoreError::Conflict`] means one of those conditions failed.
    pub async fn link_identity(
        &self,
        user: &UserRecord,
        issuer: &str,
        sub: &str,
    ) -> Result<(), StoreError> {
        let mut values: Item = item([
            (":subject", s(format!("{issuer}#{sub}"))),
            (":status", s(user.status.as_str())),
        ]);
        let update = if user.status == UserStatus::Invited {
            values.insert(":active".into(), s(UserStatus::Active.as_str()));
            "SET idp_subject = :subject, #status = :active REMOVE pending_token"
        } else {
            "SET idp_subject = :subject"
        };
        self.transact(vec![
            attr::put(
                &self.table,
                items::identity_link(issuer, sub, user),
                "attribute_not_exists(pk)",
            )?,
            attr::update(
                &self.table,
                key(keys::tenant_pk(&user.tenant), &keys::user_sk(&user.id)),
                update,
                "attribute_exists(pk) AND attribute_not_exists(idp_subject) AND #status = :status",
                values,
            )?,
        ])
        .await
    }

    /// The identity a user is linked to (`<issuer>#<sub>`), if any.
    pub async fn linked_subject(&self, user: &UserRecord) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(keys::tenant_pk(&user.tenant), &keys::user_sk(&user.id))
            .await?
            .and_then(|it| get_s(&it, "idp_subject").map(str::to_owned)))
    }
}
