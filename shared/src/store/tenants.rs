//! Tenant items: registering a tenant with its first admin, reading and listing tenants, and
//! the operator's seat limit.

use super::attr::{self, condition_held, item, key, n, s, Item};
use super::members::{invited_user_writes, NewMember, EMAIL_WRITE};
use super::{items, keys, Store, StoreError};
use crate::domain::{
    AuditEvent, Email, NewTenant, Role, SignInOption, TenantId, TenantRecord, UserRecord,
};
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0} is already registered")]
    EmailTaken(Email),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tenant exists, but its single sign-on could not be stored.
    #[error("the tenant was created, but its single sign-on was not stored: {0}")]
    Sso(String),
}

impl Store {
    /// Tenant, first admin (invited), email index entry, invitation token and audit event:
    /// all or nothing. The email index condition is what makes an address unique everywhere.
    pub async fn register_tenant(
        &self,
        t: &NewTenant<'_>,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), RegisterError> {
        let admin = NewMember {
            tenant: t.id.clone(),
            id: t.admin_id.clone(),
            email: t.admin_email.clone(),
            role: Some(Role::Admin),
            invitation: t.invitation,
            now: t.now,
        };
        let mut writes = vec![attr::put(
            &self.table,
            items::new_tenant(t),
            "attribute_not_exists(pk)",
        )?];
        writes.extend(invited_user_writes(&self.table, &admin)?);
        writes.push(self.audit_put(audit, rng)?);
        match self.transact(writes).await {
            Err(e) if e.failed_condition(1 + EMAIL_WRITE) => {
                Err(RegisterError::EmailTaken(t.admin_email.clone()))
            }
            other => Ok(other?),
        }
    }

    pub async fn get_tenant(&self, tid: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        self.get(keys::tenant_pk(tid), keys::META)
            .await?
            .as_ref()
            .map(items::tenant)
            .transpose()
    }

    /// Every user of a tenant (at most `max_users`, so one page suffices in practice; pages
    /// are followed anyway).
    pub async fn list_users(&self, tid: &TenantId) -> Result<Vec<UserRecord>, StoreError> {
        let query = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :user)")
            .expression_attribute_values(":pk", s(keys::tenant_pk(tid)))
            .expression_attribute_values(":user", s(keys::USER_PREFIX))
            .consistent_read(true);
        self.query_all(query)
            .await?
            .iter()
            .map(items::user)
            .collect()
    }

    /// Tenants sorted by name, through the GSI.
    pub async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        self.listed(keys::TENANTS_GSI_PK)
            .await?
            .iter()
            .map(items::tenant)
            .collect()
    }

    /// Suspends (`suspended`) or resumes (`active`) a tenant, audited; `Ok(false)` for an
    /// unknown tenant.
    pub async fn set_tenant_status(
        &self,
        tid: &TenantId,
        status: &str,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<bool, StoreError> {
        let change = attr::update(
            &self.table,
            key(keys::tenant_pk(tid), keys::META),
            "SET #status = :s",
            "attribute_exists(pk)",
            item([(":s", s(status))]),
        )?;
        self.audited_update(change, audit, rng).await
    }

    /// `change` (conditional) with its audit event, in one transaction; `Ok(false)` when its
    /// condition failed.
    pub(super) async fn audited_update(
        &self,
        change: aws_sdk_dynamodb::types::TransactWriteItem,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<bool, StoreError> {
        match self
            .transact(vec![change, self.audit_put(audit, rng)?])
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.failed_condition(0) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Sets the organisation's sign-in options that `changes` names, with one audit event
    /// each, in one transaction.
    pub async fn set_sign_in_options(
        &self,
        tid: &TenantId,
        changes: &[(SignInOption, bool)],
        audits: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut sets = Vec::new();
        let mut values = Item::new();
        for (i, (option, on)) in changes.iter().enumerate() {
            // Passkey sign-in is on by default: what is stored is whether it was turned off.
            let (attribute, value) = match option {
                SignInOption::EmailPin => ("email_pin", *on),
                SignInOption::PasskeySignIn => ("passkeys_off", !*on),
                SignInOption::SmsMfa => ("sms_mfa", *on),
            };
            sets.push(format!("{attribute} = :v{i}"));
            values.insert(format!(":v{i}"), attr::b(value));
        }
        let change = attr::update(
            &self.table,
            key(keys::tenant_pk(tid), keys::META),
            &format!("SET {}", sets.join(", ")),
            "attribute_exists(pk)",
            values,
        )?;
        let mut writes = vec![change];
        for a in audits {
            writes.push(self.audit_put(a, rng)?);
        }
        self.transact(writes).await
    }

    /// Ends every session of every user of a tenant (their epochs move), and says how many
    /// live sessions that ended. Each user is tried up to three times, and one that fails does
    /// not stop the others; a user removed meanwhile has nothing left to end. The error names
    /// how many users could not be reached (requests then still meet the suspension check).
    pub async fn end_all_sessions(&self, tid: &TenantId) -> Result<usize, StoreError> {
        let now = crate::domain::Timestamp::now();
        let (mut ended, mut failed) = (0, 0);
        for user in self.list_users(tid).await? {
            let mut last = None;
            for _ in 0..3 {
                let live = match self.list_sessions(tid, &user.id).await {
                    Ok(all) => all.iter().filter(|s| s.is_live(&user, now)).count(),
                    Err(e) => {
                        last = Some(e);
                        continue;
                    }
                };
                let res = self
                    .db
                    .update_item()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::tenant_pk(tid), &keys::user_sk(&user.id))))
                    .update_expression("ADD session_epoch :one")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":one", n(1))
                    .send()
                    .await;
                match condition_held(res) {
                    Ok(true) => {
                        ended += live;
                        last = None;
                        break;
                    }
                    Ok(false) => {
                        last = None; // removed meanwhile: no session of theirs is live
                        break;
                    }
                    Err(e) => last = Some(e),
                }
            }
            if let Some(e) = last {
                tracing::error!(error = %e, "could not end a user's sessions");
                failed += 1;
            }
        }
        if failed > 0 {
            return Err(StoreError::Sdk(format!(
                "the sessions of {failed} user(s) could not be ended ({ended} ended); run it again"
            )));
        }
        Ok(ended)
    }

    /// Changes the seat limit; refused (Conflict) below the seats already taken, or for an
    /// unknown tenant.
    pub async fn set_max_users(&self, tid: &TenantId, max_users: u32) -> Result<(), StoreError> {
        let res = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(tid), keys::META)))
            .update_expression("SET max_users = :m")
            .condition_expression("attribute_exists(pk) AND user_count <= :m")
            .set_expression_attribute_values(Some(item([(":m", n(i64::from(max_users)))])))
            .send()
            .await;
        if condition_held(res)? {
            Ok(())
        } else {
            Err(StoreError::Conflict {
                reasons: vec!["ConditionalCheckFailed".into()],
            })
        }
    }
}
