//! Sign-in PIN items: `PIN#<sha256 of the address>`, one per address (a new PIN replaces the
//! old), expiring with the PIN. Read with the sign-in's guess counters ([`Fetch::pin`]); a
//! judged guess spends it or counts a try in the transaction that settles the guess, on the
//! condition that it is still the PIN judged.
//!
//! [`Fetch::pin`]: super::fetch::Fetch::pin

use super::attr::{self, get_n, get_s, item, key, n, s, Item};
use super::table::TTL_ATTRIBUTE;
use super::{keys, Store, StoreError, Writes};
use crate::domain::pin::PinRecord;
use crate::domain::{TenantId, Timestamp, UserId};
use sha2::{Digest, Sha256};

/// The item key for an address as typed (normalised the way sign-in normalises it).
pub(crate) fn pin_pk(raw_email: &str) -> String {
    let digest = Sha256::digest(raw_email.trim().to_lowercase().as_bytes());
    format!("PIN#{}", hex::encode(digest))
}

/// The attribute counting a source address's wrong tries: `t_` and 16 hex digits of its
/// SHA-256 (a plain name, usable in expressions; the address itself is not kept).
fn source_attribute(source_ip: &str) -> String {
    let digest = Sha256::digest(source_ip.as_bytes());
    format!("t_{}", &hex::encode(digest)[..16])
}

/// The PIN as the source `source_ip` sees it (its own tries with the total).
pub(crate) fn record(it: &Item, source_ip: &str) -> Option<PinRecord> {
    let count = |name: &str| u32::try_from(get_n(it, name).unwrap_or(0)).unwrap_or(u32::MAX);
    Some(PinRecord {
        tenant: TenantId::parse(get_s(it, "tid")?)?,
        user: UserId::parse(get_s(it, "uid")?)?,
        hash: get_s(it, "pin_hash")?.to_owned(),
        expires_at: Timestamp(get_n(it, "expires_at")?),
        tries: count("tries"),
        source_tries: count(&source_attribute(source_ip)),
    })
}

impl Store {
    /// Stores a PIN for `raw_email`, replacing any earlier one (and its tries).
    pub async fn put_pin(&self, raw_email: &str, pin: &PinRecord) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item([
                ("pk", s(pin_pk(raw_email))),
                ("sk", s(keys::PIN_SK)),
                ("entity", s("pin")),
                ("tid", s(pin.tenant.as_str())),
                ("uid", s(pin.user.as_str())),
                ("pin_hash", s(&pin.hash)),
                ("tries", n(0)),
                ("expires_at", n(pin.expires_at.0)),
                (TTL_ATTRIBUTE, n(pin.expires_at.0)),
            ])))
            .send()
            .await?;
        Ok(())
    }

    /// What a right PIN leads to, for [`Store::settle`] (element 0): the PIN `read` spent,
    /// only while it is still the one judged, with the tries it had.
    pub fn pin_spend_write(&self, raw_email: &str, read: &PinRecord) -> Result<Writes, StoreError> {
        Ok(Writes(vec![attr::delete(
            &self.table,
            key(pin_pk(raw_email), keys::PIN_SK),
            "pin_hash = :h AND tries = :tries",
            item([(":h", s(&read.hash)), (":tries", n(i64::from(read.tries)))]),
        )?]))
    }

    /// What a wrong PIN leads to, for [`Store::settle`] (element 0): one more try on the PIN
    /// `read`, only while it is still the one judged, with the tries it had (so concurrent
    /// guesses cannot share a count: the loser is refused and asked to retry).
    pub fn pin_try_write(
        &self,
        raw_email: &str,
        source_ip: &str,
        read: &PinRecord,
    ) -> Result<Writes, StoreError> {
        Ok(Writes(vec![attr::update(
            &self.table,
            key(pin_pk(raw_email), keys::PIN_SK),
            &format!("ADD tries :one, {} :one", source_attribute(source_ip)),
            "pin_hash = :h AND tries = :tries",
            item([
                (":h", s(&read.hash)),
                (":tries", n(i64::from(read.tries))),
                (":one", n(1)),
            ]),
        )?]))
    }
}
