//! Passkey sign-in items. `PASSKEY#<credential id>` names the user a passkey belongs to (the
//! credential list itself stays on the user item): a discoverable sign-in brings the
//! credential id, and this is how the user is found. `PKCHAL#<sha256 of the challenge>` holds
//! a discoverable sign-in's state between its options and its answer, which names the
//! challenge in its signed client data; nobody's session holds it, since there is none yet.
//! It lives for [`CHALLENGE_SECS`] and is spent, right or wrong, by the answer's transaction.

use super::attr::{self, get_n, get_s, item, key, n, s, Item};
use super::table::TTL_ATTRIBUTE;
use super::users::CredentialChange;
use super::{items, Store, StoreError, Writes};
use crate::domain::{AuditEvent, SessionRecord, TenantId, Timestamp, UserId, UserRecord};
use rand::RngCore;
use sha2::{Digest, Sha256};

const OWNER_SK: &str = "PASSKEY";
const CHALLENGE_SK: &str = "PKCHAL";

/// How long a discoverable sign-in's options may be answered (the browser's own timeout is
/// five minutes).
pub const CHALLENGE_SECS: i64 = 300;

pub(crate) fn owner_pk(cred_id: &str) -> String {
    format!("PASSKEY#{cred_id}")
}

pub(crate) fn owner_key(cred_id: &str) -> Item {
    key(owner_pk(cred_id), OWNER_SK)
}

pub(crate) fn owner_keys(cred_id: &str) -> (String, String) {
    (owner_pk(cred_id), OWNER_SK.to_owned())
}

/// The item key of a challenge (its bytes, as the options carried them).
pub(crate) fn challenge_keys(challenge: &[u8]) -> (String, String) {
    let digest = Sha256::digest(challenge);
    (
        format!("PKCHAL#{}", hex::encode(digest)),
        CHALLENGE_SK.into(),
    )
}

fn challenge_key(challenge: &[u8]) -> Item {
    let (pk, sk) = challenge_keys(challenge);
    key(pk, &sk)
}

/// The user a passkey index item names.
pub(crate) fn owner(it: &Item) -> Option<(TenantId, UserId)> {
    Some((
        TenantId::parse(get_s(it, "tid")?)?,
        UserId::parse(get_s(it, "uid")?)?,
    ))
}

/// A discoverable sign-in in progress: the state webauthn-rs checks the answer with.
#[derive(Debug, Clone)]
pub struct PasskeyChallenge {
    pub state: String,
    pub expires_at: Timestamp,
}

pub(crate) fn challenge(it: &Item) -> Option<PasskeyChallenge> {
    Some(PasskeyChallenge {
        state: get_s(it, "state")?.to_owned(),
        expires_at: Timestamp(get_n(it, "expires_at")?),
    })
}

impl Store {
    /// Keeps a discoverable sign-in's state until its challenge is answered (or expires).
    pub async fn put_passkey_challenge(
        &self,
        challenge: &[u8],
        state: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let (pk, sk) = challenge_keys(challenge);
        let expires_at = now.0 + CHALLENGE_SECS;
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item([
                ("pk", s(pk)),
                ("sk", s(sk)),
                ("entity", s("passkey_challenge")),
                ("state", s(state)),
                ("expires_at", n(expires_at)),
                (TTL_ATTRIBUTE, n(expires_at)),
            ])))
            .send()
            .await?;
        Ok(())
    }

    /// The challenge spent (element 0 of the answer's transaction): only while it is there,
    /// so that it answers once.
    pub fn passkey_challenge_spend(&self, challenge: &[u8]) -> Result<Writes, StoreError> {
        Ok(Writes(vec![attr::delete(
            &self.table,
            challenge_key(challenge),
            "attribute_exists(pk)",
            Item::new(),
        )?]))
    }

    /// What a passkey's sign-in leads to, for [`Store::settle`]: `spend` on the user item (the
    /// key's counter and last use) with the sign-in time (element 0), the challenge spent
    /// (element 1), the new full session stored (2) and `events` recorded.
    ///
    /// [`Store::settle`]: super::Store::settle
    pub fn passkey_sign_in_writes(
        &self,
        challenge: &[u8],
        new: &SessionRecord,
        user: &UserRecord,
        spend: CredentialChange,
        events: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<Writes, StoreError> {
        let mut writes = vec![spend.sign_in_write(&self.table, user, new.created_at.0)?];
        writes.extend(self.passkey_challenge_spend(challenge)?.0);
        writes.push(attr::put(
            &self.table,
            items::session(new),
            "attribute_not_exists(pk)",
        )?);
        for e in events {
            writes.push(self.audit_put(e, rng)?);
        }
        Ok(Writes(writes))
    }

    /// The index of a new passkey to its user, written with the key itself.
    pub fn passkey_owner_write(
        &self,
        cred_id: &str,
        tid: &TenantId,
        uid: &UserId,
    ) -> Result<Writes, StoreError> {
        let mut it = owner_key(cred_id);
        it.insert("entity".into(), s("passkey"));
        it.insert("tid".into(), s(tid.as_str()));
        it.insert("uid".into(), s(uid.as_str()));
        Ok(Writes(vec![attr::put_new(&self.table, it)?]))
    }

    /// Forgets which user a removed passkey belonged to. A left-over index item signs nobody
    /// in (the key is no longer on the user), so this is tidying, not a guard.
    pub async fn forget_passkey_owner(&self, cred_id: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(owner_key(cred_id)))
            .send()
            .await?;
        Ok(())
    }
}
