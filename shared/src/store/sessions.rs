//! Session items: `SESSION#<sha256 of id>`. Looked up on every request, so revocation (logout,
//! password reset, role change) takes effect at once.

use super::attr::{get_n, get_s, item, key, n, req_n, req_s, s, Item};
use super::table::TTL_ATTRIBUTE;
use super::{Store, StoreError};
use crate::domain::{TenantId, Timestamp, TokenHash, UserId};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};

pub const SESSION_SK: &str = "SESSION";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Password checked; only enrolment and the second-factor check are reachable.
    Password,
    /// Both factors checked.
    Full,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Full => "full",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "password" => Some(Self::Password),
            "full" => Some(Self::Full),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub hash: TokenHash,
    pub tenant: TenantId,
    pub user: UserId,
    pub level: Level,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
    /// Absolute end, whatever the activity.
    pub expires_at: Timestamp,
    /// The user's `session_epoch` when the session began; a bump ends every older session.
    pub epoch: i64,
    /// A WebAuthn ceremony in progress (server-side state, never sent to the browser).
    pub ceremony: Option<String>,
}

fn pk(hash: &TokenHash) -> String {
    format!("SESSION#{}", hash.as_str())
}

impl SessionRecord {
    fn to_item(&self) -> Item {
        let mut it = item([
            ("pk", s(pk(&self.hash))),
            ("sk", s(SESSION_SK)),
            ("entity", s("session")),
            ("tid", s(self.tenant.as_str())),
            ("uid", s(self.user.as_str())),
            ("level", s(self.level.as_str())),
            ("created_at", n(self.created_at.0)),
            ("last_seen", n(self.last_seen.0)),
            ("expires_at", n(self.expires_at.0)),
            (TTL_ATTRIBUTE, n(self.expires_at.0)),
            ("epoch", n(self.epoch)),
        ]);
        if let Some(c) = &self.ceremony {
            it.insert("ceremony".into(), s(c));
        }
        it
    }

    fn from_item(hash: TokenHash, it: &Item) -> Result<Self, StoreError> {
        let corrupt = |w: &str| StoreError::Corrupt(format!("session item: {w}"));
        Ok(Self {
            hash,
            tenant: TenantId::parse(req_s(it, "tid")?).ok_or_else(|| corrupt("tid"))?,
            user: UserId::parse(req_s(it, "uid")?).ok_or_else(|| corrupt("uid"))?,
            level: Level::parse(req_s(it, "level")?).ok_or_else(|| corrupt("level"))?,
            created_at: Timestamp(req_n(it, "created_at")?),
            last_seen: Timestamp(req_n(it, "last_seen")?),
            expires_at: Timestamp(req_n(it, "expires_at")?),
            epoch: get_n(it, "epoch").unwrap_or_default(),
            ceremony: get_s(it, "ceremony").map(str::to_owned),
        })
    }
}

impl Store {
    pub async fn put_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(session.to_item()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    pub async fn get_session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        self.get_raw(pk(hash), SESSION_SK)
            .await?
            .map(|it| SessionRecord::from_item(hash.clone(), &it))
            .transpose()
    }

    pub async fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(hash), SESSION_SK)))
            .send()
            .await?;
        Ok(())
    }

    /// Replaces a session by a new one (new id): after a privilege change the old id, which
    /// may have been seen by someone else, is worth nothing. Fails if the old one is gone.
    /// `extra` items are written in the same transaction.
    pub async fn rotate_session(
        &self,
        old: &TokenHash,
        new: &SessionRecord,
        extra: Vec<TransactWriteItem>,
    ) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk(old), SESSION_SK)))
            .condition_expression("attribute_exists(pk)")
            .build()?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(new.to_item()))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        let mut items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        items.extend(extra);
        self.transact(items).await
    }

    /// Records activity (sliding idle expiry) and, optionally, a ceremony state.
    pub async fn touch_session(
        &self,
        hash: &TokenHash,
        now: Timestamp,
        ceremony: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut req = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(hash), SESSION_SK)))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", n(now.0));
        req = match ceremony {
            Some(c) => req
                .update_expression("SET last_seen = :now, ceremony = :c")
                .expression_attribute_values(":c", s(c)),
            None => req.update_expression("SET last_seen = :now"),
        };
        req.send().await?;
        Ok(())
    }
}
