//! User items: reading a user (with or without credentials), finding one by email, and the
//! single-item changes of second factors.

use super::attr::{self, condition_held, item, key, n, s, ss, Item};
use super::{items, keys, Store, StoreError, Writes};
use crate::domain::factors::{PendingPhone, SentCode};
use crate::domain::{
    AuditEvent, Credentials, Email, SealedSeed, SecurityKeys, SessionRecord, TenantId, TokenHash,
    UserId, UserRecord,
};
use rand::RngCore;

fn user_key(tid: &TenantId, uid: &UserId) -> Item {
    key(keys::tenant_pk(tid), &keys::user_sk(uid))
}

impl Store {
    /// One more wrong second-factor guess by `user`, for the transaction that counts it.
    pub fn second_factor_failure_writes(&self, user: &UserRecord) -> Result<Writes, StoreError> {
        Ok(Writes(vec![attr::update(
            &self.table,
            user_key(&user.tenant, &user.id),
            "ADD mfa_failures :one",
            "attribute_exists(pk)",
            item([(":one", n(1))]),
        )?]))
    }

    /// Claims the right to alert `user` at `now`: `Ok(true)` for one request only, and only
    /// when no alert went out in the last `every` seconds.
    pub async fn claim_alert(
        &self,
        user: &UserRecord,
        now: i64,
        every: i64,
    ) -> Result<bool, StoreError> {
        self.update_user(
            user,
            "SET mfa_alerted_at = :now",
            "attribute_not_exists(mfa_alerted_at) OR mfa_alerted_at <= :since",
            item([(":now", n(now)), (":since", n(now - every))]),
        )
        .await
    }

    pub async fn get_user(
        &self,
        tid: &TenantId,
        uid: &UserId,
    ) -> Result<Option<UserRecord>, StoreError> {
        self.get(keys::tenant_pk(tid), &keys::user_sk(uid))
            .await?
            .as_ref()
            .map(items::user)
            .transpose()
    }

    /// The user an email belongs to, through the email index.
    pub async fn find_by_email(
        &self,
        email: &Email,
    ) -> Result<Option<(TenantId, UserId)>, StoreError> {
        self.get(keys::email_pk(email), keys::EMAIL_SK)
            .await?
            .as_ref()
            .map(items::email_index_ids)
            .transpose()
    }

    pub async fn get_user_with_credentials(
        &self,
        tid: &TenantId,
        uid: &UserId,
    ) -> Result<Option<(UserRecord, Credentials)>, StoreError> {
        match self.get(keys::tenant_pk(tid), &keys::user_sk(uid)).await? {
            Some(it) => Ok(Some((items::user(&it)?, items::credentials(&it)))),
            None => Ok(None),
        }
    }

    /// One conditional update of a user item; `Ok(false)` when the condition failed.
    async fn update_user(
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
            .set_key(Some(user_key(&user.tenant, &user.id)))
            .update_expression(update)
            .condition_expression(format!("attribute_exists(pk) AND ({condition})"));
        if !values.is_empty() {
            req = req.set_expression_attribute_values(Some(values));
        }
        condition_held(req.send().await)
    }

    /// Stores a TOTP seed awaiting its first code.
    pub async fn set_pending_totp(
        &self,
        user: &UserRecord,
        seed: &SealedSeed,
    ) -> Result<bool, StoreError> {
        self.update_user(
            user,
            "SET totp_pending_sealed = :p",
            "attribute_exists(uid)",
            item([(":p", s(seed.as_str()))]),
        )
        .await
    }

    /// Applies `change` to the user item alone: a first enrolment, or a security key's
    /// signature counter. `Ok(false)`: its condition failed.
    pub async fn change_factors(
        &self,
        user: &UserRecord,
        change: &CredentialChange,
    ) -> Result<bool, StoreError> {
        self.update_user(
            user,
            &change.update,
            &change.condition,
            change.values.clone(),
        )
        .await
    }

    /// A change of factors by a user who already had one (possibly none: "sign out everywhere
    /// else"), for one transaction: the change with the epoch bump on the user as read (element
    /// 0; the bump ends every other session and device), the old session gone (1), the new one
    /// (`new`, in the new epoch) stored (2), then `events`.
    pub fn ending_other_sessions_writes(
        &self,
        user: &UserRecord,
        change: &CredentialChange,
        old: &TokenHash,
        new: &SessionRecord,
        events: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<Writes, StoreError> {
        let mut values = change.values.clone();
        values.insert(":epoch".into(), n(user.session_epoch));
        values.insert(":one".into(), n(1));
        let mut writes = vec![
            attr::update(
                &self.table,
                user_key(&user.tenant, &user.id),
                format!("{} ADD session_epoch :one", change.update).trim(),
                &format!(
                    "attribute_exists(pk) AND session_epoch = :epoch AND ({})",
                    change.condition
                ),
                values,
            )?,
            attr::delete(
                &self.table,
                key(keys::session_pk(old), keys::SESSION_SK),
                "attribute_exists(pk)",
                Item::new(),
            )?,
            attr::put(&self.table, items::session(new), "attribute_not_exists(pk)")?,
        ];
        for e in events {
            writes.push(self.audit_put(e, rng)?);
        }
        Ok(Writes(writes))
    }
}

/// A change to a user's credentials (second factors, password), as one update of the user
/// item with its condition.
#[derive(Debug, Clone)]
pub struct CredentialChange {
    update: String,
    condition: String,
    values: Item,
}

impl CredentialChange {
    /// The pending TOTP seed becomes the factor (replacing any older one), with fresh
    /// recovery codes; `step` is the step of the code that confirmed it.
    pub fn enable_totp(seed: &SealedSeed, step: i64, recovery_hashes: &[String]) -> Self {
        Self {
            update: "SET totp_sealed = :p, totp_last_step = :step, recovery_hashes = :r \
                     REMOVE totp_pending_sealed"
                .into(),
            condition: "totp_pending_sealed = :p".into(),
            values: item([
                (":p", s(seed.as_str())),
                (":step", n(step)),
                (":r", ss(recovery_hashes)),
            ]),
        }
    }

    /// The user's security keys as given (none: the attribute goes), written over the list
    /// as it was read at `read_version` only (a concurrent change wins; this one fails its
    /// condition); with `recovery_hashes`, a fresh set of recovery codes.
    pub fn security_keys(
        keys: &SecurityKeys,
        read_version: i64,
        recovery_hashes: Option<&[String]>,
    ) -> Self {
        let mut values = item([(":kv", n(read_version + 1))]);
        let mut sets = vec!["webauthn_version = :kv"];
        let mut update_removes = "";
        if keys.is_empty() {
            update_removes = " REMOVE webauthn_keys";
        } else {
            values.insert(":k".into(), s(items::security_keys_attr(keys)));
            sets.push("webauthn_keys = :k");
        }
        if let Some(r) = recovery_hashes {
            values.insert(":r".into(), ss(r));
            sets.push("recovery_hashes = :r");
        }
        let condition = if read_version == 0 {
            "attribute_exists(uid) AND attribute_not_exists(webauthn_version)".to_owned()
        } else {
            values.insert(":kv_read".into(), n(read_version));
            "attribute_exists(uid) AND webauthn_version = :kv_read".to_owned()
        };
        Self {
            update: format!("SET {}{update_removes}", sets.join(", ")),
            condition,
            values,
        }
    }

    /// A phone number being added, with the hash of the code texted to confirm it (replacing
    /// any earlier attempt).
    pub fn phone_pending(number: &str, code: &SentCode) -> Self {
        Self {
            update:
                "SET phone_pending = :pn, phone_pending_hash = :ph, phone_pending_expires = :pe"
                    .into(),
            condition: "attribute_exists(uid)".into(),
            values: item([
                (":pn", s(number)),
                (":ph", s(&code.hash)),
                (":pe", n(code.expires_at)),
            ]),
        }
    }

    /// The pending number, confirmed by the code `pending` was texted, becomes the factor
    /// (replacing any older number), with fresh recovery codes.
    pub fn confirm_phone(pending: &PendingPhone, recovery_hashes: &[String]) -> Self {
        Self {
            update: "SET phone = :pn, recovery_hashes = :r \
                     REMOVE phone_pending, phone_pending_hash, phone_pending_expires, sms_hash, sms_expires"
                .into(),
            condition: "phone_pending_hash = :ph".into(),
            values: item([
                (":pn", s(&pending.number)),
                (":ph", s(&pending.code.hash)),
                (":r", ss(recovery_hashes)),
            ]),
        }
    }

    /// A code texted to the user's number for a sign-in or a fresh proof (replacing any
    /// earlier one).
    pub fn sms_code(code: &SentCode) -> Self {
        Self {
            update: "SET sms_hash = :h, sms_expires = :e".into(),
            condition: "attribute_exists(phone)".into(),
            values: item([(":h", s(&code.hash)), (":e", n(code.expires_at))]),
        }
    }

    /// A texted code spent: it counts once.
    pub fn spend_sms_code(hash: &str) -> Self {
        Self {
            update: "REMOVE sms_hash, sms_expires".into(),
            condition: "sms_hash = :h".into(),
            values: item([(":h", s(hash))]),
        }
    }

    /// The phone number goes (the caller makes sure another factor stays).
    pub fn remove_phone() -> Self {
        Self {
            update: "REMOVE phone, sms_hash, sms_expires".into(),
            condition: "attribute_exists(phone)".into(),
            values: Item::new(),
        }
    }

    /// The authenticator app goes (the caller makes sure another factor stays).
    pub fn remove_totp() -> Self {
        Self {
            update: "REMOVE totp_sealed, totp_last_step, totp_pending_sealed".into(),
            condition: "attribute_exists(totp_sealed)".into(),
            values: Item::new(),
        }
    }

    /// A new password hash (NFKC-normalised before hashing), set at `now`.
    pub fn password(hash: &str, now: i64) -> Self {
        Self {
            update: "SET password_hash = :hash, password_changed_at = :now".into(),
            condition: "attribute_exists(password_hash)".into(),
            values: item([(":hash", s(hash)), (":now", n(now))]),
        }
    }

    /// A TOTP step spent: a code counts once, so it cannot be replayed.
    pub fn spend_totp_step(step: i64) -> Self {
        Self {
            update: "SET totp_last_step = :step".into(),
            condition: "attribute_not_exists(totp_last_step) OR totp_last_step < :step".into(),
            values: item([(":step", n(step))]),
        }
    }

    /// A recovery code spent: it counts once.
    pub fn spend_recovery_code(hash: &str) -> Self {
        Self {
            update: "DELETE recovery_hashes :set".into(),
            condition: "contains(recovery_hashes, :h)".into(),
            values: item([(":set", ss(&[hash.to_owned()])), (":h", s(hash))]),
        }
    }

    /// The same change, recording a sign-in at `at` too.
    pub fn with_sign_in_at(mut self, at: i64) -> Self {
        // An update expression holds each clause once: join an existing SET or start one.
        self.update = match self.update.strip_prefix("SET ") {
            Some(rest) => format!("SET last_login_at = :login_at, {rest}"),
            None => format!("SET last_login_at = :login_at {}", self.update)
                .trim()
                .to_owned(),
        };
        self.values.insert(":login_at".into(), n(at));
        self
    }

    /// The same change, starting the count of wrong second-factor guesses in a row afresh
    /// (a right guess was made).
    pub fn resetting_failures(mut self) -> Self {
        const CLEARED: &str = "mfa_failures";
        // An update expression holds each clause once: join an existing REMOVE or add one.
        self.update = if let Some(rest) = self.update.strip_prefix("REMOVE ") {
            format!("REMOVE {CLEARED}, {rest}")
        } else if let Some((head, rest)) = self.update.split_once(" REMOVE ") {
            format!("{head} REMOVE {CLEARED}, {rest}")
        } else {
            format!("{} REMOVE {CLEARED}", self.update)
                .trim()
                .to_owned()
        };
        self
    }

    /// The change as a sign-in makes it (the sign-in time at `at`, the count of wrong guesses
    /// in a row started afresh), as one element of a transaction on `user`'s item.
    pub(super) fn sign_in_write(
        self,
        table: &str,
        user: &UserRecord,
        at: i64,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        self.with_sign_in_at(at)
            .resetting_failures()
            .write(table, user)
    }

    /// As one element of a transaction on `user`'s item.
    pub(super) fn write(
        &self,
        table: &str,
        user: &UserRecord,
    ) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
        attr::update(
            table,
            user_key(&user.tenant, &user.id),
            &self.update,
            &format!("attribute_exists(pk) AND ({})", self.condition),
            self.values.clone(),
        )
    }

    /// Nothing but the end of the other sessions ("sign out everywhere else").
    pub fn nothing() -> Self {
        Self {
            update: String::new(),
            condition: "attribute_exists(uid)".into(),
            values: Item::new(),
        }
    }

    /// A fresh set of recovery codes in place of the old ones.
    pub fn recovery_codes(recovery_hashes: &[String]) -> Self {
        Self {
            update: "SET recovery_hashes = :r".into(),
            condition: "attribute_exists(uid)".into(),
            values: item([(":r", ss(recovery_hashes))]),
        }
    }
}
