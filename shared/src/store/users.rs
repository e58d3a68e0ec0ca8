//! User items: reading a user (with or without credentials), finding one by email, and the
//! single-item changes of second factors.

use super::attr::{condition_held, item, key, n, s, ss, Item};
use super::{items, keys, Store, StoreError};
use crate::domain::{Credentials, Email, SealedSeed, SecurityKeys, TenantId, UserId, UserRecord};

fn user_key(tid: &TenantId, uid: &UserId) -> Item {
    key(keys::tenant_pk(tid), &keys::user_sk(uid))
}

impl Store {
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

    /// Turns the pending seed on (the code proved it), with the step of that code spent and a
    /// fresh set of recovery codes. `Ok(false)`: a newer set-up replaced this seed meanwhile.
    pub async fn enable_totp(
        &self,
        user: &UserRecord,
        seed: &SealedSeed,
        step: i64,
        recovery_hashes: &[String],
    ) -> Result<bool, StoreError> {
        self.update_user(
            user,
            "SET totp_sealed = :p, totp_last_step = :step, recovery_hashes = :r REMOVE totp_pending_sealed",
            "totp_pending_sealed = :p",
            item([
                (":p", s(seed.as_str())),
                (":step", n(step)),
                (":r", ss(recovery_hashes)),
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
            item([(":set", ss(&[hash.to_owned()])), (":h", s(hash))]),
        )
        .await
    }

    /// Stores the user's security keys; with `recovery_hashes`, a fresh set of recovery codes.
    pub async fn set_security_keys(
        &self,
        user: &UserRecord,
        keys: &SecurityKeys,
        recovery_hashes: Option<&[String]>,
    ) -> Result<bool, StoreError> {
        let mut values = item([(":k", s(items::security_keys_attr(keys)))]);
        let update = match recovery_hashes {
            Some(r) => {
                values.insert(":r".into(), ss(r));
                "SET webauthn_keys = :k, recovery_hashes = :r"
            }
            None => "SET webauthn_keys = :k",
        };
        self.update_user(user, update, "attribute_exists(uid)", values)
            .await
    }
}
