//! One-time tokens, and the two changes an invitation goes through: reissue and activation.

use super::attr::{b, get_bool, item, key, n, req_n, req_s, s, Item};
use super::audit::AuditEvent;
use super::table::TTL_ATTRIBUTE;
use super::users::UserRecord;
use super::{keys, Store, StoreError};
use crate::domain::{OneTimeToken, TenantId, Timestamp, TokenHash, TokenKind, UserId};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use rand::RngCore;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: TokenHash,
    pub kind: TokenKind,
    pub tenant: TenantId,
    pub user: UserId,
    pub expires_at: Timestamp,
    pub used: bool,
}

impl TokenRecord {
    fn from_item(hash: TokenHash, it: &Item) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("token item: {what}"));
        Ok(Self {
            hash,
            kind: TokenKind::parse(req_s(it, "kind")?).ok_or_else(|| corrupt("kind"))?,
            tenant: TenantId::parse(req_s(it, "tid")?).ok_or_else(|| corrupt("tid"))?,
            user: UserId::parse(req_s(it, "uid")?).ok_or_else(|| corrupt("uid"))?,
            expires_at: Timestamp(req_n(it, "expires_at")?),
            used: get_bool(it, "used"),
        })
    }
}

/// The put of a fresh token item, conditional on the hash being new (a 256-bit collision
/// would be a bug in the RNG, and must not overwrite anyone's token).
pub(crate) fn put_token(
    table: &str,
    token: &OneTimeToken,
    tid: &TenantId,
    uid: &UserId,
    now: Timestamp,
) -> Result<TransactWriteItem, StoreError> {
    let it = item([
        ("pk", s(keys::token_pk(&token.hash))),
        ("sk", s(keys::TOKEN_SK)),
        ("entity", s("token")),
        ("kind", s(token.kind.as_str())),
        ("tid", s(tid.as_str())),
        ("uid", s(uid.as_str())),
        ("created_at", n(now.0)),
        ("expires_at", n(token.expires_at.0)),
        (TTL_ATTRIBUTE, n(token.delete_after().0)),
        ("used", b(false)),
    ]);
    Ok(TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(it))
                .condition_expression("attribute_not_exists(pk)")
                .build()?,
        )
        .build())
}

impl Store {
    pub async fn get_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.get_raw(keys::token_pk(hash), keys::TOKEN_SK)
            .await?
            .map(|it| TokenRecord::from_item(hash.clone(), &it))
            .transpose()
    }

    /// Sets a password with a one-time link and spends the token, in one transaction whose
    /// conditions make the token single-use and bound to the user's current link of its kind:
    /// - activation: the invited user becomes active;
    /// - reset: the active user's sessions all end (the epoch moves); the second factor stays.
    ///
    /// A [`StoreError::Conflict`] means the token was used, expired or replaced meanwhile.
    pub async fn set_password_with_token(
        &self,
        token: &TokenRecord,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), StoreError> {
        let spend = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::token_pk(&token.hash), keys::TOKEN_SK)))
            .update_expression("SET used = :true, used_at = :now")
            .condition_expression("used = :false AND expires_at > :now")
            .set_expression_attribute_values(Some(item([
                (":true", b(true)),
                (":false", b(false)),
                (":now", n(now.0)),
            ])))
            .build()?;
        let mut values = item([
            (":hash", s(password_hash)),
            (":now", n(now.0)),
            (":token", s(token.hash.as_str())),
        ]);
        let (update, condition) = match token.kind {
            TokenKind::Activation => {
                values.insert(":required".into(), s("invited"));
                values.insert(":active".into(), s("active"));
                (
                    "SET #status = :active, password_hash = :hash, activated_at = :now, password_changed_at = :now \
                     REMOVE pending_token",
                    "#status = :required AND pending_token = :token",
                )
            }
            TokenKind::Reset => {
                values.insert(":required".into(), s("active"));
                values.insert(":one".into(), n(1));
                (
                    "SET password_hash = :hash, password_changed_at = :now ADD session_epoch :one REMOVE pending_reset",
                    "#status = :required AND pending_reset = :token",
                )
            }
        };
        let set_password = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::tenant_pk(&token.tenant),
                &keys::user_sk(&token.user),
            )))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(
                [("#status".to_owned(), "status".to_owned())].into(),
            ))
            .set_expression_attribute_values(Some(values))
            .build()?;
        self.transact(vec![
            TransactWriteItem::builder().update(spend).build(),
            TransactWriteItem::builder().update(set_password).build(),
            audit.transact_put(&self.table, rng)?,
        ])
        .await
    }

    /// Replaces an invited user's working link with `fresh`: the new token is written and the
    /// user's `pending_token` moved to it, on condition that it still names the one `user` holds. From then
    /// on, every older link of that user fails activation (it is no longer the pending one).
    pub async fn reissue_invitation(
        &self,
        user: &UserRecord,
        fresh: &OneTimeToken,
        now: Timestamp,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), StoreError> {
        let mut values = item([
            (":invited", s("invited")),
            (":fresh", s(fresh.hash.as_str())),
            (":now", n(now.0)),
        ]);
        let (tid, uid) = (&user.tenant, &user.id);
        let condition = match &user.pending_token {
            Some(h) => {
                values.insert(":current".into(), s(h.as_str()));
                "#status = :invited AND pending_token = :current"
            }
            None => "#status = :invited AND attribute_not_exists(pending_token)",
        };
        let point_user = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(tid), &keys::user_sk(uid))))
            .update_expression("SET pending_token = :fresh, invited_at = :now")
            .condition_expression(condition)
            .set_expression_attribute_names(Some(
                [("#status".to_owned(), "status".to_owned())].into(),
            ))
            .set_expression_attribute_values(Some(values))
            .build()?;
        self.transact(vec![
            TransactWriteItem::builder().update(point_user).build(),
            put_token(&self.table, fresh, tid, uid, now)?,
            audit.transact_put(&self.table, rng)?,
        ])
        .await
    }

    /// After an invitation email failed: forget when the link was issued, so that asking for
    /// a new one is not throttled as if the person had received it.
    pub async fn forget_invitation_time(
        &self,
        tid: &TenantId,
        uid: &UserId,
        token: &TokenHash,
    ) -> Result<(), StoreError> {
        let res = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(tid), &keys::user_sk(uid))))
            .update_expression("REMOVE invited_at")
            .condition_expression("pending_token = :token")
            .expression_attribute_values(":token", s(token.as_str()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            // A newer link exists already: its own time stands.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a password-reset token for an active user, unless one was sent in the last
    /// `min_interval_secs` (so that the form cannot be used to flood an inbox).
    /// `Ok(false)`: not active, or too soon.
    pub async fn issue_reset(
        &self,
        user: &UserRecord,
        token: &OneTimeToken,
        now: Timestamp,
        min_interval_secs: i64,
    ) -> Result<bool, StoreError> {
        let point_user = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(keys::tenant_pk(&user.tenant), &keys::user_sk(&user.id))))
            .update_expression("SET pending_reset = :h, reset_sent_at = :now")
            .condition_expression(
                "#status = :active AND (attribute_not_exists(reset_sent_at) OR reset_sent_at < :recent)",
            )
            .set_expression_attribute_names(Some([("#status".to_owned(), "status".to_owned())].into()))
            .set_expression_attribute_values(Some(item([
                (":h", s(token.hash.as_str())),
                (":now", n(now.0)),
                (":active", s("active")),
                (":recent", n(now.0 - min_interval_secs)),
            ])))
            .build()?;
        match self
            .transact(vec![
                TransactWriteItem::builder().update(point_user).build(),
                put_token(&self.table, token, &user.tenant, &user.id, now)?,
            ])
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.failed_condition(0) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
