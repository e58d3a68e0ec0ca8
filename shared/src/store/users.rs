//! User items.

use super::attr::{get_n, get_s, key, req_s, Item};
use super::{keys, Store, StoreError};
use crate::domain::{Email, Role, TenantId, TokenHash, UserId, UserStatus};

/// A user as stored. The password hash is deliberately not read into this type: only the
/// sign-in flow needs it, and it asks for it explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub tenant: TenantId,
    pub id: UserId,
    pub email: Email,
    pub role: Option<Role>,
    pub status: UserStatus,
    /// Hash of the activation token that currently works, while invited.
    pub pending_token: Option<TokenHash>,
    pub created_at: i64,
    /// When the current invitation link was issued.
    pub invited_at: Option<i64>,
}

impl UserRecord {
    pub(crate) fn from_item(it: &Item) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("user item: {what}"));
        Ok(Self {
            tenant: TenantId::parse(req_s(it, "tid")?).ok_or_else(|| corrupt("tid"))?,
            id: UserId::parse(req_s(it, "uid")?).ok_or_else(|| corrupt("uid"))?,
            email: Email::parse(req_s(it, "email")?).map_err(|_| corrupt("email"))?,
            role: get_s(it, "role").and_then(Role::parse),
            status: UserStatus::parse(req_s(it, "status")?).ok_or_else(|| corrupt("status"))?,
            pending_token: get_s(it, "pending_token").map(|h| TokenHash::from_stored(h.to_owned())),
            created_at: get_n(it, "created_at").unwrap_or_default(),
            invited_at: get_n(it, "invited_at"),
        })
    }
}

impl Store {
    pub async fn get_user(
        &self,
        tid: &TenantId,
        uid: &UserId,
    ) -> Result<Option<UserRecord>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(tid), &keys::user_sk(uid))))
            .consistent_read(true)
            .send()
            .await?;
        out.item().map(UserRecord::from_item).transpose()
    }

    /// The stored item, raw, for tests and operator tooling that check exact attributes.
    pub async fn get_raw(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await?;
        Ok(out.item)
    }
}
