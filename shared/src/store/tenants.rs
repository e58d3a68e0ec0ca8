//! Tenant items, and registering a tenant with its first admin.

use super::attr::{b, get_bool, get_n, get_s, item, key, n, req_n, req_s, s, Item};
use super::audit::AuditEvent;
use super::invitations::put_token;
use super::table::GSI1;
use super::users::{email_index_put, new_user_put, UserRecord};
use super::{keys, Store, StoreError};
use crate::domain::{Email, OneTimeToken, Role, TenantId, Timestamp, UserId};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use rand::RngCore;
use serde::Serialize;

pub const DEFAULT_MAX_USERS: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    pub status: String,
    pub max_users: u32,
    pub user_count: u32,
    pub setup_done: bool,
    /// The name the admin gave at setup; shown instead of `name` once set.
    pub organisation_name: Option<String>,
    pub created_at: String,
}

impl TenantRecord {
    pub fn display_name(&self) -> &str {
        self.organisation_name.as_deref().unwrap_or(&self.name)
    }
}

impl TenantRecord {
    fn from_item(it: &Item) -> Result<Self, StoreError> {
        let count = |name: &str| -> Result<u32, StoreError> {
            u32::try_from(req_n(it, name)?)
                .map_err(|_| StoreError::Corrupt(format!("tenant {name}")))
        };
        Ok(Self {
            id: TenantId::parse(req_s(it, "tid")?)
                .ok_or_else(|| StoreError::Corrupt("tenant tid".into()))?,
            name: req_s(it, "name")?.to_owned(),
            status: get_s(it, "status").unwrap_or("active").to_owned(),
            max_users: count("max_users")?,
            user_count: count("user_count")?,
            setup_done: get_bool(it, "setup_done"),
            organisation_name: get_s(it, "organisation_name").map(str::to_owned),
            created_at: Timestamp(get_n(it, "created_at").unwrap_or_default()).to_rfc3339(),
        })
    }
}

/// Everything `register_tenant` writes, decided by the caller (ids, token, time).
pub struct NewTenant<'a> {
    pub id: TenantId,
    pub name: String,
    pub max_users: u32,
    pub admin_id: UserId,
    pub admin_email: Email,
    pub invitation: &'a OneTimeToken,
    pub now: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("{0} is already registered")]
    EmailTaken(Email),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(crate) fn put(table: &str, it: Item, condition: &str) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(it))
                .condition_expression(condition)
                .build()?,
        )
        .build())
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
        let tenant = item([
            ("pk", s(keys::tenant_pk(&t.id))),
            ("sk", s(keys::META)),
            ("entity", s("tenant")),
            ("tid", s(t.id.as_str())),
            ("name", s(&t.name)),
            ("status", s("active")),
            ("max_users", n(i64::from(t.max_users))),
            ("user_count", n(1)),
            ("admin_count", n(1)),
            ("setup_done", b(false)),
            ("created_at", n(t.now.0)),
            ("gsi1pk", s(keys::TENANTS_GSI_PK)),
            ("gsi1sk", s(format!("{}#{}", t.name.to_lowercase(), t.id))),
        ]);
        let user = new_user_put(
            &self.table,
            &t.id,
            &t.admin_id,
            &t.admin_email,
            Some(Role::Admin),
            t.invitation,
            t.now,
        )?;
        let email = email_index_put(&self.table, &t.admin_email, &t.id, &t.admin_id)?;
        let result = self
            .transact(vec![
                put(&self.table, tenant, "attribute_not_exists(pk)")?,
                user,
                email,
                put_token(&self.table, t.invitation, &t.id, &t.admin_id, t.now)?,
                audit.transact_put(&self.table, rng)?,
            ])
            .await;
        match result {
            Err(e) if e.failed_condition(2) => {
                Err(RegisterError::EmailTaken(t.admin_email.clone()))
            }
            other => Ok(other?),
        }
    }

    pub async fn get_tenant(&self, tid: &TenantId) -> Result<Option<TenantRecord>, StoreError> {
        self.get_raw(keys::tenant_pk(tid), keys::META)
            .await?
            .as_ref()
            .map(TenantRecord::from_item)
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
            .expression_attribute_values(":user", s("USER#"))
            .consistent_read(true);
        self.query_all(query)
            .await?
            .iter()
            .map(UserRecord::from_item)
            .collect()
    }

    /// Tenants sorted by name, through the GSI.
    pub async fn list_tenants(&self) -> Result<Vec<TenantRecord>, StoreError> {
        let query = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(keys::TENANTS_GSI_PK));
        self.query_all(query)
            .await?
            .iter()
            .map(TenantRecord::from_item)
            .collect()
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
            .expression_attribute_values(":m", AttributeValue::N(max_users.to_string()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Err(StoreError::Conflict {
                    reasons: vec!["ConditionalCheckFailed".into()],
                })
            }
            Err(e) => Err(e.into()),
        }
    }
}
