//! Single sign-on: a tenant's configuration (one item, versioned; it names only domains the
//! tenant verified, see `domains.rs`), sign-ins in flight at a provider (`OIDC#`, single use)
//! and linked identities (`IDP#`).

use super::attr::{self, get_s, item, key, n, s, Item};
use super::{items, keys, Store, StoreError};
use crate::domain::{AuditEvent, SsoState, TenantId, TenantSso, UserRecord, UserStatus};
use aws_sdk_dynamodb::types::ReturnValue;
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum SsoSaveError {
    /// A domain the configuration names is not (or no longer) verified by this tenant.
    #[error("the domain {0} is not verified by this organisation")]
    DomainUnverified(String),
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

    /// The tenant that verified an email domain, if any.
    pub async fn tenant_for_domain(&self, domain: &str) -> Result<Option<TenantId>, StoreError> {
        match self.get(keys::domain_pk(domain), keys::DOMAIN_SK).await? {
            Some(it) => items::verified_owner(&it),
            None => Ok(None),
        }
    }

    /// Stores `sso` over version `version` with its audit events, on condition that every
    /// domain either configuration names is still verified by this tenant: all or nothing.
    pub async fn save_sso(
        &self,
        tid: &TenantId,
        sso: &TenantSso,
        version: i64,
        events: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<(), SsoSaveError> {
        let mut named: Vec<String> = sso
            .active
            .iter()
            .chain(sso.pending.iter())
            .flat_map(|c| c.domains.iter().cloned())
            .collect();
        named.sort();
        named.dedup();
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
        for d in &named {
            writes.push(attr::check(
                &self.table,
                key(keys::domain_pk(d), keys::DOMAIN_SK),
                "tid = :tid AND attribute_exists(verified_by)",
                item([(":tid", s(tid.as_str()))]),
            )?);
        }
        for event in events {
            writes.push(self.audit_put(event, rng)?);
        }
        match self.transact(writes).await {
            Err(e) if e.failed_condition(0) => Err(SsoSaveError::Stale),
            Err(e) => match (1..=named.len()).find(|i| e.failed_condition(*i)) {
                Some(i) => Err(SsoSaveError::DomainUnverified(named[i - 1].clone())),
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
    /// refused) and is still as read; an invited user becomes active. A link to another issuer
    /// (the configuration switched providers) is replaced, and its `IDP#` item goes. A
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
        // The user as read: no link, or the same link to another issuer.
        let condition = match &user.idp_subject {
            None => {
                "attribute_exists(pk) AND attribute_not_exists(idp_subject) AND #status = :status"
            }
            Some(_) => "attribute_exists(pk) AND idp_subject = :old AND #status = :status",
        };
        let mut writes = vec![attr::put(
            &self.table,
            items::identity_link(issuer, sub, user),
            "attribute_not_exists(pk)",
        )?];
        if let Some(old) = &user.idp_subject {
            if old.starts_with(&format!("{issuer}#")) {
                return Err(StoreError::Conflict {
                    reasons: vec!["ConditionalCheckFailed".into()],
                });
            }
            values.insert(":old".into(), s(old.as_str()));
            writes.push(attr::delete(
                &self.table,
                key(keys::idp_pk_of_subject(old), keys::IDP_SK),
                "attribute_not_exists(pk) OR uid = :uid",
                item([(":uid", s(user.id.as_str()))]),
            )?);
        }
        writes.push(attr::update(
            &self.table,
            key(keys::tenant_pk(&user.tenant), &keys::user_sk(&user.id)),
            update,
            condition,
            values,
        )?);
        self.transact(writes).await
    }

    /// The identity a user is linked to (`<issuer>#<sub>`), if any.
    pub async fn linked_subject(&self, user: &UserRecord) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(keys::tenant_pk(&user.tenant), &keys::user_sk(&user.id))
            .await?
            .and_then(|it| get_s(&it, "idp_subject").map(str::to_owned)))
    }
}
