//! The people of a tenant: adding within the seat limit, role changes, removal, and the
//! initial setup. Every change that touches two items is one transaction.

use super::attr::{self, b, item, key, n, s, Item};
use super::tokens::put_token;
use super::{items, keys, Store, StoreError, Writes};
use crate::domain::pin::PinRecord;
use crate::domain::{
    AuditEvent, Email, OneTimeToken, Role, SessionRecord, TenantId, Timestamp, UserId, UserRecord,
    UserStatus,
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

/// Keeps `active_admins` in step with a role change of an active user: +1, -1 or nothing.
/// Invited admins do not count: a tenant whose only active admin steps down while the others
/// have not activated would have nobody able to administer it.
fn admin_delta(status: UserStatus, from: Option<Role>, to: Option<Role>) -> i64 {
    if status != UserStatus::Active {
        return 0;
    }
    i64::from(to == Some(Role::Admin)) - i64::from(from == Some(Role::Admin))
}

/// The condition that the user is still as read (role and status): a change in between
/// (promotion, demotion, activation) would otherwise leave `active_admins` wrong.
fn as_read(user: &UserRecord, values: &mut Item) -> String {
    values.insert(":read_status".into(), s(user.status.as_str()));
    match user.role {
        Some(r) => {
            values.insert(":read_role".into(), s(r.as_str()));
            "#status = :read_status AND #role = :read_role".into()
        }
        None => "#status = :read_status AND attribute_not_exists(#role)".into(),
    }
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
        // An invited admin is not counted among the active admins until they activate.
        let mut writes = vec![attr::update(
            &self.table,
            tenant_key(&m.tenant),
            "SET user_count = user_count + :one",
            "attribute_exists(pk) AND user_count < max_users",
            item([(":one", n(1))]),
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
        if role == user.role {
            return Ok(());
        }
        let mut writes = Vec::new();
        let delta = admin_delta(user.status, user.role, role);
        if delta != 0 {
            let cond = if delta < 0 {
                "active_admins > :one"
            } else {
                "attribute_exists(pk)"
            };
            writes.push(attr::update(
                &self.table,
                tenant_key(&user.tenant),
                "SET active_admins = if_not_exists(active_admins, :zero) + :d",
                cond,
                item([(":d", n(delta)), (":one", n(1)), (":zero", n(0))]),
            )?);
        }
        let mut values = item([(":one", n(1))]);
        let cond = as_read(user, &mut values);
        let set = match role {
            Some(r) => {
                values.insert(":new".into(), s(r.as_str()));
                "SET #role = :new ADD session_epoch :one"
            }
            None => "REMOVE #role ADD session_epoch :one",
        };
        writes.push(attr::update(
            &self.table,
            user_key(user),
            set,
            &cond,
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
        let is_admin = admin_delta(user.status, user.role, None) < 0;
        let (expr, cond) = if is_admin {
            (
                "SET user_count = user_count - :one, active_admins = active_admins - :one",
                "active_admins > :one",
            )
        } else {
            ("SET user_count = user_count - :one", "user_count > :zero")
        };
        let mut role_values = Item::new();
        let role_is = as_read(user, &mut role_values);
        let mut writes = vec![
            attr::update(
                &self.table,
                tenant_key(&user.tenant),
                expr,
                cond,
                item([(":one", n(1)), (":zero", n(0))]),
            )?,
            attr::delete(&self.table, user_key(user), &role_is, role_values)?,
            attr::delete(
                &self.table,
                key(keys::email_pk(&user.email), keys::EMAIL_SK),
                "uid = :uid",
                item([(":uid", s(user.id.as_str()))]),
            )?,
            self.audit_put(audit, rng)?,
        ];
        // A link dies with the person it points at: the identity could otherwise sign in as
        // whoever is added later under the same id, and no one could link it again.
        if let Some(subject) = &user.idp_subject {
            writes.push(attr::delete(
                &self.table,
                key(keys::idp_pk_of_subject(subject), keys::IDP_SK),
                "attribute_not_exists(pk) OR uid = :uid",
                item([(":uid", s(user.id.as_str()))]),
            )?);
        }
        let result = self.transact(writes).await;
        match result {
            Err(e) if is_admin && e.failed_condition(0) => Err(MemberError::LastAdmin),
            Err(StoreError::Conflict { .. }) => Err(MemberError::Stale),
            other => Ok(other?),
        }
    }

    /// What a right PIN leads to, for [`Store::settle`]: the PIN spent (element 0, see
    /// [`Store::pin_spend_write`]); an invited user activated with no password, their
    /// invitation link dead and an admin counted among the active admins (element 1, on the
    /// user as read, with `activated`); then `session` with its `events`.
    #[allow(clippy::too_many_arguments)]
    pub fn pin_sign_in_writes(
        &self,
        raw_email: &str,
        pin: &PinRecord,
        user: &UserRecord,
        activated: Option<&AuditEvent>,
        session: &SessionRecord,
        events: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<Writes, StoreError> {
        let Writes(mut writes) = self.pin_spend_write(raw_email, pin)?;
        if let Some(audit) = activated {
            let mut values = item([
                (":active", s(UserStatus::Active.as_str())),
                (":now", n(session.created_at.0)),
            ]);
            let cond = as_read(user, &mut values);
            writes.push(attr::update(
                &self.table,
                user_key(user),
                "SET #status = :active, activated_at = :now REMOVE pending_token",
                &cond,
                values,
            )?);
            writes.push(self.audit_put(audit, rng)?);
            if user.role == Some(Role::Admin) {
                writes.push(attr::update(
                    &self.table,
                    tenant_key(&user.tenant),
                    "SET active_admins = if_not_exists(active_admins, :zero) + :one",
                    "attribute_exists(pk)",
                    item([(":zero", n(0)), (":one", n(1))]),
                )?);
            }
        }
        let Writes(start) = self.session_writes(session, user, events, rng)?;
        writes.extend(start);
        Ok(Writes(writes))
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
    fn the_active_admin_count_follows_role_changes_of_active_users_only() {
        let active = UserStatus::Active;
        assert_eq!(admin_delta(active, Some(Role::Admin), Some(Role::Core)), -1);
        assert_eq!(admin_delta(active, None, Some(Role::Admin)), 1);
        assert_eq!(admin_delta(active, Some(Role::Core), None), 0);
        assert_eq!(admin_delta(active, Some(Role::Admin), Some(Role::Admin)), 0);
        let invited = UserStatus::Invited;
        assert_eq!(admin_delta(invited, Some(Role::Admin), None), 0);
        assert_eq!(admin_delta(invited, None, Some(Role::Admin)), 0);
    }
}
