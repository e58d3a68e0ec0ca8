//! The people of a tenant: adding within the seat limit, role changes, removal, setup, and
//! reading the audit trail. Every change that touches two items is one transaction.

use super::attr::{get_n, get_s, item, key, n, s, Item};
use super::audit::AuditEvent;
use super::invitations::put_token;
use super::users::{email_index_put, new_user_put, UserRecord};
use super::{keys, Store, StoreError};
use crate::domain::{Email, OneTimeToken, Role, TenantId, Timestamp, UserId};
use aws_sdk_dynamodb::types::{AttributeValue, Delete, TransactWriteItem, Update};
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

fn update(
    table: &str,
    k: Item,
    expr: &str,
    cond: &str,
    values: Item,
) -> Result<TransactWriteItem, StoreError> {
    let mut b = Update::builder()
        .table_name(table)
        .set_key(Some(k))
        .update_expression(expr)
        .condition_expression(cond)
        .set_expression_attribute_values(Some(values));
    if expr.contains("#role") || cond.contains("#role") {
        b = b.expression_attribute_names("#role", "role");
    }
    Ok(TransactWriteItem::builder().update(b.build()?).build())
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

/// One event in the trail, as the audit view shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub source_ip: String,
    pub outcome: String,
}

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
        let seat = update(
            &self.table,
            tenant_key(&m.tenant),
            &expr,
            "attribute_exists(pk) AND user_count < max_users",
            values,
        )?;
        let result = self
            .transact(vec![
                seat,
                new_user_put(
                    &self.table,
                    &m.tenant,
                    &m.id,
                    &m.email,
                    m.role,
                    m.invitation,
                    m.now,
                )?,
                email_index_put(&self.table, &m.email, &m.tenant, &m.id)?,
                put_token(&self.table, m.invitation, &m.tenant, &m.id, m.now)?,
                audit.transact_put(&self.table, rng)?,
            ])
            .await;
        match result {
            Err(e) if e.failed_condition(2) => Err(MemberError::EmailTaken),
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
        let mut items = Vec::new();
        let delta = admin_delta(user.role, role);
        if delta != 0 {
            let cond = if delta < 0 {
                "admin_count > :one"
            } else {
                "attribute_exists(pk)"
            };
            items.push(update(
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
        items.push(update(&self.table, user_key(user), set, cond, values)?);
        items.push(audit.transact_put(&self.table, rng)?);
        match self.transact(items).await {
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
        let seat = update(
            &self.table,
            tenant_key(&user.tenant),
            expr,
            cond,
            item([(":one", n(1)), (":zero", n(0))]),
        )?;
        let delete = |k: Item, cond: &str| -> Result<TransactWriteItem, StoreError> {
            Ok(TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(k))
                        .condition_expression(cond)
                        .build()?,
                )
                .build())
        };
        let mut uid_value = Item::new();
        uid_value.insert(":uid".into(), s(user.id.as_str()));
        let remove_index = TransactWriteItem::builder()
            .delete(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(keys::email_pk(&user.email), keys::EMAIL_SK)))
                    .condition_expression("uid = :uid")
                    .set_expression_attribute_values(Some(uid_value))
                    .build()
                    .map_err(StoreError::from)?,
            )
            .build();
        let result = self
            .transact(vec![
                seat,
                delete(user_key(user), "attribute_exists(pk)")?,
                remove_index,
                audit.transact_put(&self.table, rng)?,
            ])
            .await;
        match result {
            Err(e) if is_admin && e.failed_condition(0) => Err(MemberError::LastAdmin),
            Err(StoreError::Conflict { .. }) => Err(MemberError::Stale),
            other => Ok(other?),
        }
    }

    /// Marks the initial setup done, once.
    pub async fn finish_setup(
        &self,
        tid: &TenantId,
        organisation: &str,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<bool, StoreError> {
        let done = update(
            &self.table,
            tenant_key(tid),
            "SET setup_done = :true, organisation_name = :org",
            "attribute_exists(pk) AND setup_done = :false",
            item([
                (":true", AttributeValue::Bool(true)),
                (":false", AttributeValue::Bool(false)),
                (":org", s(organisation)),
            ]),
        )?;
        match self
            .transact(vec![done, audit.transact_put(&self.table, rng)?])
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.failed_condition(0) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Audit events of a tenant, newest first; `after` is the `next` cursor of the previous page.
    pub async fn audit_page(
        &self,
        tid: &TenantId,
        limit: i32,
        after: Option<&str>,
    ) -> Result<(Vec<AuditEntry>, Option<String>), StoreError> {
        let mut q = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :audit)")
            .expression_attribute_values(":pk", s(keys::tenant_pk(tid)))
            .expression_attribute_values(":audit", s("AUDIT#"))
            .scan_index_forward(false)
            .limit(limit);
        if let Some(sk) = after.filter(|a| a.starts_with("AUDIT#")) {
            q = q
                .exclusive_start_key("pk", s(keys::tenant_pk(tid)))
                .exclusive_start_key("sk", s(sk));
        }
        let out = q.send().await?;
        let entries = out
            .items()
            .iter()
            .map(|it| AuditEntry {
                at: Timestamp(get_n(it, "at").unwrap_or_default()).to_rfc3339(),
                actor: get_s(it, "actor").unwrap_or_default().to_owned(),
                action: get_s(it, "action").unwrap_or_default().to_owned(),
                target: get_s(it, "target").map(str::to_owned),
                source_ip: get_s(it, "source_ip").unwrap_or_default().to_owned(),
                outcome: get_s(it, "outcome").unwrap_or_default().to_owned(),
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
