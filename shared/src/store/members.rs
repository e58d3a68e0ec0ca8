//! The people of a tenant: adding within the seat limit, role changes, removal, and the
//! initial setup. Every change that touches two items is one transaction.

use super::attr::{self, b, item, key, n, s, Item};
use super::tokens::put_token;
use super::{items, keys, Store, StoreError};
use crate::domain::{
    AuditEvent, Email, OneTimeToken, Role, TenantId, Timestamp, UserId, UserRecord,
};
use aws_sdk_dynamodb::types::TransactWriteItem;
use rand::RngCore;

#[derive(Debug, thiserror::Error)]
pub enum MemberError {
    #[error("the tenant has reached its user limit")]
    LimitReached,
    #[error("the email is already registered")]
    EmailTaken,
    /// Demoting or removing this admin would leave the tenant without one.
    #[error("the tenant must keep at least one admin")]
    LastAdmin,
    /// The user changed meanwhile (or is gone): read again.
    #[error("the user changed meanwhile")]
    Stale,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn tenant_key(tid: &TenantId) -> Item {
    key(keys::tenant_pk(tid), keys::META)
}

fn user_key(user: &UserRecord) -> Item {
    key(keys::tenant_pk(&user.tenant), &keys::user_sk(&user.id))
}

/// Keeps `admin_count` in step with a role change: +1, -1 or nothing.
fn admin_delta(from: Option<Role>, to: Option<Role>) -> i64 {
    i64::from(to == Some(Role::Admin)) - i64::from(from == Some(Role::Admin))
}

/// The writes that bring an invited user into being: the user, the email index entry (its
/// condition makes an address unique across tenants: element [`EMAIL_WRITE`]) and the
/// invitation token. Used for every new member and for a new tenant's first admin.
pub(super) fn invited_user_writes(
    table: &str,
    m: &NewMember<'_>,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let new = "attribute_not_exists(pk)";
    Ok(vec![
        attr::put(
            table,
            items::new_user(&m.tenant, &m.id, &m.email, m.role, m.invitation, m.now),
            new,
        )?,
        attr::put(table, items::email_index(&m.email, &m.tenant, &m.id), new)?,
        put_token(table, m.invitation, &m.tenant, &m.id, m.now)?,
    ])
}

/// Where the email index entry stands in [`invited_user_writes`].
pub(super) const EMAIL_WRITE: usize = 1;

pub struct NewMember<'a> {
    pub tenant: TenantId,
    pub id: UserId,
    pub email: Email,
    pub role: Option<Role>,
    pub invitation: &'a OneTimeToken,
    pub now: Timestamp,
}

impl Store {
    /// Adds an invited user. The seat counter, the user, the email index entry, the token and
    /// the audit event are written together: the counter's condition (`user_count <
    /// max_users`) is what makes concurrent adds unable to pass the limit.
    pub async fn add_member(
        &self,
        m: &NewMember<'_>,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), MemberError> {
        let mut values = item([(":one", n(1))]);
        let mut expr = "SET user_count = user_count + :one".to_owned();
        if m.role == Some(Role::Admin) {
            expr.push_str(", admin_count = if_not_exists(admin_count, :zero) + :one");
            values.insert(":zero".into(), n(0));
        }
        let mut writes = vec![attr::update(
            &self.table,
            tenant_key(&m.tenant),
            &expr,
            "attribute_exists(pk) AND user_count < max_users",
            values,
        )?];
        writes.extend(invited_user_writes(&self.table, m)?);
        writes.push(self.audit_put(audit, rng)?);
        match self.transact(writes).await {
            Err(e) if e.failed_condition(1 + EMAIL_WRITE) => Err(MemberError::EmailTaken),
            Err(e) if e.failed_condition(0) => Err(MemberError::LimitReached),
            other => Ok(other?),
        }
    }

    /// Changes a role and ends the user's sessions (the epoch moves). The tenant's admin count
    /// may not reach zero.
    pub async fn change_role(
        &self,
        user: &UserRecord,
        role: Option<Role>,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), MemberError> {
        let mut writes = Vec::new();
        let delta = admin_delta(user.role, role);
        if delta != 0 {
            let cond = if delta < 0 {
                "admin_count > :one"
            } else {
                "attribute_exists(pk)"
            };
            writes.push(attr::update(
                &self.table,
                tenant_key(&user.tenant),
                "SET admin_count = if_not_exists(admin_count, :zero) + :d",
                cond,
                item([(":d", n(delta)), (":one", n(1)), (":zero", n(0))]),
            )?);
        }
        let mut values = item([(":one", n(1))]);
        let (set, cond) = match (role, user.role) {
            (Some(r), Some(old)) => {
                values.insert(":new".into(), s(r.as_str()));
                values.insert(":old".into(), s(old.as_str()));
                ("SET #role = :new ADD session_epoch :one", "#role = :old")
            }
            (Some(r), None) => {
                values.insert(":new".into(), s(r.as_str()));
                (
                    "SET #role = :new ADD session_epoch :one",
                    "attribute_exists(pk) AND attribute_not_exists(#role)",
                )
            }
            (None, Some(old)) => {
                values.insert(":old".into(), s(old.as_str()));
                ("REMOVE #role ADD session_epoch :one", "#role = :old")
            }
            (None, None) => return Ok(()),
        };
        writes.push(attr::update(
            &self.table,
            user_key(user),
            set,
            cond,
            values,
        )?);
        writes.push(self.audit_put(audit, rng)?);
        match self.transact(writes).await {
            Err(e) if delta < 0 && e.failed_condition(0) => Err(MemberError::LastAdmin),
            Err(StoreError::Conflict { .. }) => Err(MemberError::Stale),
            other => Ok(other?),
        }
    }

    /// Removes a user: the user item, the email index entry and the seat, together. Their
    /// sessions die with the user item (every request reads it).
    pub async fn remove_member(
        &self,
        user: &UserRecord,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), MemberError> {
        let is_admin = user.role == Some(Role::Admin);
        let (expr, cond) = if is_admin {
            (
                "SET user_count = user_count - :one, admin_count = admin_count - :one",
                "admin_count > :one",
            )
        } else {
            ("SET user_count = user_count - :one", "user_count > :zero")
        };
        let (role_is, role_values) = match user.role {
            Some(r) => ("#role = :role", item([(":role", s(r.as_str()))])),
            None => (
                "attribute_exists(pk) AND attribute_not_exists(#role)",
                Item::new(),
            ),
        };
        let result = self
            .transact(vec![
                attr::update(
                    &self.table,
                    tenant_key(&user.tenant),
                    expr,
                    cond,
                    item([(":one", n(1)), (":zero", n(0))]),
                )?,
                // Conditioned on the role read: a promotion or demotion in between would
                // otherwise leave `admin_count` wrong.
                attr::delete(&self.table, user_key(user), role_is, role_values)?,
                attr::delete(
                    &self.table,
                    key(keys::email_pk(&user.email), keys::EMAIL_SK),
                    "uid = :uid",
                    item([(":uid", s(user.id.as_str()))]),
                )?,
                self.audit_put(audit, rng)?,
            ])
            .await;
        match result {
            Err(e) if is_admin && e.failed_condition(0) => Err(MemberError::LastAdmin),
            Err(StoreError::Conflict { .. }) => Err(MemberError::Stale),
            other => Ok(other?),
        }
    }

    /// Marks the initial setup done, once. `Ok(false)`: it was done already.
    pub async fn finish_setup(
        &self,
        tid: &TenantId,
        organisation: &str,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<bool, StoreError> {
        let done = attr::update(
            &self.table,
            tenant_key(tid),
            "SET setup_done = :true, organisation_name = :org",
            "attribute_exists(pk) AND setup_done = :false",
            item([
                (":true", b(true)),
                (":false", b(false)),
                (":org", s(organisation)),
            ]),
        )?;
        match self.transact(vec![done, self.audit_put(audit, rng)?]).await {
            Ok(()) => Ok(true),
            Err(e) if e.failed_condition(0) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_count_follows_role_changes() {
        assert_eq!(admin_delta(Some(Role::Admin), Some(Role::Core)), -1);
        assert_eq!(admin_delta(None, Some(Role::Admin)), 1);
        assert_eq!(admin_delta(Some(Role::Core), None), 0);
        assert_eq!(admin_delta(Some(Role::Admin), Some(Role::Admin)), 0);
    }
}
