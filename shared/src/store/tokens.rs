//! One-time tokens, and the changes a link goes through: reissue, spending it to set a
//! password, and issuing a reset link.

use super::attr::{self, b, condition_held, item, key, n, s, Item};
use super::{items, keys, Store, StoreError};
use crate::domain::{
    AuditEvent, OneTimeToken, Role, TenantId, Timestamp, TokenHash, TokenKind, TokenRecord, UserId,
    UserRecord, UserStatus,
};
use aws_sdk_dynamodb::types::TransactWriteItem;
use rand::RngCore;

/// The put of a fresh token item, conditional on the hash being new (a 256-bit collision
/// would be a bug in the RNG, and must not overwrite anyone's token).
pub(super) fn put_token(
    table: &str,
    token: &OneTimeToken,
    tid: &TenantId,
    uid: &UserId,
    now: Timestamp,
) -> Result<TransactWriteItem, StoreError> {
    attr::put(
        table,
        items::token(token, tid, uid, now),
        "attribute_not_exists(pk)",
    )
}

fn user_key(tid: &TenantId, uid: &UserId) -> Item {
    key(keys::tenant_pk(tid), &keys::user_sk(uid))
}

impl Store {
    pub async fn get_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        self.get(keys::token_pk(hash), keys::TOKEN_SK)
            .await?
            .map(|it| items::token_record(hash.clone(), &it))
            .transpose()
    }

    /// Sets a password with a one-time link and spends the token, in one transaction whose
    /// conditions make the token single-use and bound to the user's current link of its kind:
    /// - activation: the invited user (with the `role` read) becomes active, and an admin joins
    ///   the tenant's active admins;
    /// - reset: the active user's sessions all end (the epoch moves); the second factor stays.
    ///
    /// A [`StoreError::Conflict`] means the token was used, expired or replaced meanwhile.
    pub async fn set_password_with_token(
        &self,
        token: &TokenRecord,
        role: Option<Role>,
        password_hash: &str,
        now: Timestamp,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), StoreError> {
        let spend = attr::update(
            &self.table,
            key(keys::token_pk(&token.hash), keys::TOKEN_SK),
            "SET used = :true, used_at = :now",
            "used = :false AND expires_at > :now",
            item([(":true", b(true)), (":false", b(false)), (":now", n(now.0))]),
        )?;
        let mut values = item([
            (":hash", s(password_hash)),
            (":now", n(now.0)),
            (":token", s(token.hash.as_str())),
        ]);
        let (update, condition) = match token.kind {
            TokenKind::Activation => {
                values.insert(":required".into(), s(UserStatus::Invited.as_str()));
                values.insert(":active".into(), s(UserStatus::Active.as_str()));
                (
                    "SET #status = :active, password_hash = :hash, activated_at = :now, password_changed_at = :now \
                     REMOVE pending_token",
                    "#status = :required AND pending_token = :token",
                )
            }
            TokenKind::Reset => {
                values.insert(":required".into(), s(UserStatus::Active.as_str()));
                values.insert(":one".into(), n(1));
                (
                    "SET password_hash = :hash, password_changed_at = :now ADD session_epoch :one REMOVE pending_reset, mfa_failures",
                    "#status = :required AND pending_reset = :token",
                )
            }
        };
        // The role read must still hold: an admin who activates joins the active admins.
        let condition = match role {
            Some(r) => {
                values.insert(":read_role".into(), s(r.as_str()));
                format!("{condition} AND #role = :read_role")
            }
            None => format!("{condition} AND attribute_not_exists(#role)"),
        };
        let set_password = attr::update(
            &self.table,
            user_key(&token.tenant, &token.user),
            update,
            &condition,
            values,
        )?;
        let mut writes = vec![spend, set_password, self.audit_put(audit, rng)?];
        if token.kind == TokenKind::Activation && role == Some(Role::Admin) {
            writes.push(attr::update(
                &self.table,
                key(keys::tenant_pk(&token.tenant), keys::META),
                "SET active_admins = if_not_exists(active_admins, :zero) + :one",
                "attribute_exists(pk)",
                item([(":zero", n(0)), (":one", n(1))]),
            )?);
        }
        self.transact(writes).await
    }

    /// Replaces an invited user's working link with `fresh`: the new token is written and the
    /// user's `pending_token` moved to it, on condition that it still names the one `user`
    /// holds. From then on, every older link of that user fails activation.
    pub async fn reissue_invitation(
        &self,
        user: &UserRecord,
        fresh: &OneTimeToken,
        now: Timestamp,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), StoreError> {
        let mut values = item([
            (":invited", s(UserStatus::Invited.as_str())),
            (":fresh", s(fresh.hash.as_str())),
            (":now", n(now.0)),
        ]);
        let condition = match &user.pending_token {
            Some(h) => {
                values.insert(":current".into(), s(h.as_str()));
                "#status = :invited AND pending_token = :current"
            }
            None => "#status = :invited AND attribute_not_exists(pending_token)",
        };
        let point_user = attr::update(
            &self.table,
            user_key(&user.tenant, &user.id),
            "SET pending_token = :fresh, invited_at = :now",
            condition,
            values,
        )?;
        self.transact(vec![
            point_user,
            put_token(&self.table, fresh, &user.tenant, &user.id, now)?,
            self.audit_put(audit, rng)?,
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
            .set_key(Some(user_key(tid, uid)))
            .update_expression("REMOVE invited_at")
            .condition_expression("pending_token = :token")
            .expression_attribute_values(":token", s(token.as_str()))
            .send()
            .await;
        // A newer link exists already when the condition fails: its own time stands.
        condition_held(res).map(|_| ())
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
        let point_user = attr::update(
            &self.table,
            user_key(&user.tenant, &user.id),
            "SET pending_reset = :h, reset_sent_at = :now",
            "#status = :active AND (attribute_not_exists(reset_sent_at) OR reset_sent_at < :recent)",
            item([
                (":h", s(token.hash.as_str())),
                (":now", n(now.0)),
                (":active", s(UserStatus::Active.as_str())),
                (":recent", n(now.0 - min_interval_secs)),
            ]),
        )?;
        match self
            .transact(vec![
                point_user,
                put_token(&self.table, token, &user.tenant, &user.id, now)?,
            ])
            .await
        {
            Ok(()) => Ok(true),
            Err(e) if e.failed_condition(0) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Takes back a reset link whose email could not be sent (`token`, as issued): the link
    /// stops working and the next request may issue one at once, so that a retry of the mail
    /// is not refused as "a link went out a moment ago".
    pub async fn withdraw_reset(
        &self,
        user: &UserRecord,
        token: &OneTimeToken,
    ) -> Result<(), StoreError> {
        self.transact(vec![
            attr::update(
                &self.table,
                user_key(&user.tenant, &user.id),
                "REMOVE pending_reset, reset_sent_at",
                "pending_reset = :h",
                item([(":h", s(token.hash.as_str()))]),
            )?,
            attr::delete(
                &self.table,
                attr::key(keys::token_pk(&token.hash), keys::TOKEN_SK),
                "attribute_exists(pk)",
                attr::Item::new(),
            )?,
        ])
        .await
    }
}
