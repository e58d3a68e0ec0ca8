//! User items.

use super::attr::{get_n, get_s, item, key, n, req_s, s, Item};
use super::tenants::put;
use super::{keys, Store, StoreError};
use crate::domain::{
    Email, OneTimeToken, Role, TenantId, Timestamp, TokenHash, UserId, UserStatus,
};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use secrecy::SecretString;

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
    /// Hash of the password-reset token that currently works, if any.
    pub pending_reset: Option<TokenHash>,
    /// Bumped to end every session of the user at once (password reset, role change).
    pub session_epoch: i64,
    pub has_totp: bool,
    pub has_webauthn: bool,
    pub last_login_at: Option<i64>,
}

impl UserRecord {
    /// Whether a second factor is set up; until it is, a sign-in can only enrol one.
    pub fn has_mfa(&self) -> bool {
        self.has_totp || self.has_webauthn
    }
}

/// The secret parts of a user item, read only by the flows that check them.
pub struct Credentials {
    pub password_hash: Option<SecretString>,
    /// AES-GCM-sealed TOTP seed (see `auth::crypto`).
    pub totp_sealed: Option<String>,
    pub totp_pending_sealed: Option<String>,
    pub totp_last_step: i64,
    /// JSON array of webauthn-rs `Passkey` (public keys and counters; nothing secret).
    pub webauthn_keys: Option<String>,
}

impl Credentials {
    fn from_item(it: &Item) -> Self {
        Self {
            password_hash: get_s(it, "password_hash").map(|h| SecretString::from(h.to_owned())),
            totp_sealed: get_s(it, "totp_sealed").map(str::to_owned),
            totp_pending_sealed: get_s(it, "totp_pending_sealed").map(str::to_owned),
            totp_last_step: get_n(it, "totp_last_step").unwrap_or(0),
            webauthn_keys: get_s(it, "webauthn_keys").map(str::to_owned),
        }
    }
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
            pending_reset: get_s(it, "pending_reset").map(|h| TokenHash::from_stored(h.to_owned())),
            session_epoch: get_n(it, "session_epoch").unwrap_or(0),
            has_totp: it.contains_key("totp_sealed"),
            has_webauthn: it.contains_key("webauthn_keys"),
            last_login_at: get_n(it, "last_login_at"),
        })
    }
}

/// The put of a new, invited user: conditional on the id being new.
pub(crate) fn new_user_put(
    table: &str,
    tid: &TenantId,
    uid: &UserId,
    email: &Email,
    role: Option<Role>,
    invitation: &OneTimeToken,
    now: Timestamp,
) -> Result<TransactWriteItem, StoreError> {
    let mut it = item([
        ("pk", s(keys::tenant_pk(tid))),
        ("sk", s(keys::user_sk(uid))),
        ("entity", s("user")),
        ("tid", s(tid.as_str())),
        ("uid", s(uid.as_str())),
        ("email", s(email.as_str())),
        ("status", s("invited")),
        ("created_at", n(now.0)),
        ("invited_at", n(now.0)),
        ("pending_token", s(invitation.hash.as_str())),
        ("session_epoch", n(0)),
    ]);
    if let Some(r) = role {
        it.insert("role".into(), s(r.as_str()));
    }
    put(table, it, "attribute_not_exists(pk)")
}

/// The email index entry: its condition is what makes an address unique across tenants.
pub(crate) fn email_index_put(
    table: &str,
    email: &Email,
    tid: &TenantId,
    uid: &UserId,
) -> Result<TransactWriteItem, StoreError> {
    let it = item([
        ("pk", s(keys::email_pk(email))),
        ("sk", s(keys::EMAIL_SK)),
        ("entity", s("email")),
        ("tid", s(tid.as_str())),
        ("uid", s(uid.as_str())),
    ]);
    put(table, it, "attribute_not_exists(pk)")
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

    /// The user an email belongs to, through the email index.
    pub async fn find_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(TenantId, UserId)>, StoreError> {
        let Some(it) = self.get_raw(keys::email_pk(email), keys::EMAIL_SK).await? else {
            return Ok(None);
        };
        let tid = TenantId::parse(req_s(&it, "tid")?)
            .ok_or_else(|| StoreError::Corrupt("email tid".into()))?;
        let uid = UserId::parse(req_s(&it, "uid")?)
            .ok_or_else(|| StoreError::Corrupt("email uid".into()))?;
        Ok(Some((tid, uid)))
    }

    pub async fn get_user_with_credentials(
        &self,
        tid: &TenantId,
        uid: &UserId,
    ) -> Result<Option<(UserRecord, Credentials)>, StoreError> {
        match self
            .get_raw(keys::tenant_pk(tid), &keys::user_sk(uid))
            .await?
        {
            Some(it) => Ok(Some((
                UserRecord::from_item(&it)?,
                Credentials::from_item(&it),
            ))),
            None => Ok(None),
        }
    }

    /// One conditional update of a user item; `Ok(false)` when the condition failed.
    pub(crate) async fn update_user(
        &self,
        user: &UserRecord,
        update: &str,
        condition: &str,
        values: Item,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::tenant_pk(&user.tenant),
                &keys::user_sk(&user.id),
            )))
            .update_expression(update)
            .condition_expression(format!("attribute_exists(pk) AND ({condition})"));
        if !values.is_empty() {
            req = req.set_expression_attribute_values(Some(values));
        }
        match req.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a TOTP seed awaiting its first code.
    pub async fn set_pending_totp(
        &self,
        user: &UserRecord,
        sealed: &str,
    ) -> Result<bool, StoreError> {
        self.update_user(
            user,
            "SET totp_pending_sealed = :p",
            "attribute_exists(uid)",
            item([(":p", s(sealed))]),
        )
        .await
    }

    /// Turns the pending seed on (the code proved it), with the step of that code spent and a
    /// fresh set of recovery codes.
    pub async fn enable_totp(
        &self,
        user: &UserRecord,
        sealed: &str,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<bool, StoreError> {
        self.update_user(
            user,
            "SET totp_sealed = :p, totp_last_step = :step, recovery_hashes = :r REMOVE totp_pending_sealed",
            "totp_pending_sealed = :p",
            item([
                (":p", s(sealed)),
                (":step", n(step)),
                (":r", AttributeValue::Ss(recovery_hashes.to_vec())),
            ]),
        )
        .await
    }

    /// Spends a TOTP step: succeeds once per step, so a code cannot be replayed.
    pub async fn spend_totp_step(&self, user: &UserRecord, step: i64) -> Result<bool, StoreError> {
        self.update_user(
            user,
            "SET totp_last_step = :step",
            "attribute_not_exists(totp_last_step) OR totp_last_step < :step",
            item([(":step", n(step))]),
        )
        .await
    }

    /// Spends a recovery code: succeeds once per code.
    pub async fn spend_recovery_code(
        &self,
        user: &UserRecord,
        hash: &str,
    ) -> Result<bool, StoreError> {
        self.update_user(
            user,
            "DELETE recovery_hashes :set",
            "contains(recovery_hashes, :h)",
            item([
                (":set", AttributeValue::Ss(vec![hash.to_owned()])),
                (":h", s(hash)),
            ]),
        )
        .await
    }

    /// Stores the user's security keys; with `recovery_hashes`, a fresh set of recovery codes.
    pub async fn set_webauthn_keys(
        &self,
        user: &UserRecord,
        keys_json: &str,
        recovery_hashes: Option<&[String]>,
    ) -> Result<bool, StoreError> {
        let mut values = item([(":k", s(keys_json))]);
        let update = match recovery_hashes {
            Some(r) => {
                values.insert(":r".into(), AttributeValue::Ss(r.to_vec()));
                "SET webauthn_keys = :k, recovery_hashes = :r"
            }
            None => "SET webauthn_keys = :k",
        };
        self.update_user(user, update, "attribute_exists(uid)", values)
            .await
    }

    /// The update that records a sign-in, for the transaction that completes it.
    pub fn record_login_item(
        &self,
        user: &UserRecord,
        now: Timestamp,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = aws_sdk_dynamodb::types::Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                keys::tenant_pk(&user.tenant),
                &keys::user_sk(&user.id),
            )))
            .update_expression("SET last_login_at = :now")
            .condition_expression("attribute_exists(pk)")
            .set_expression_attribute_values(Some(item([(":now", n(now.0))])))
            .build()?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}
