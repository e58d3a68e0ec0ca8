//! Sign-in PIN items: `PIN#<sha256 of the address>`, one per address (a new PIN replaces the
//! old), expiring with the PIN. A try is taken before the PIN is checked, with one conditional
//! update, so that concurrent guesses cannot share a count.

use super::attr::{condition_held, get_n, get_s, item, key, n, s, Item};
use super::table::TTL_ATTRIBUTE;
use super::{keys, Store, StoreError};
use crate::domain::pin::{PinRecord, PIN_TRIES};
use crate::domain::{TenantId, Timestamp, UserId};
use aws_sdk_dynamodb::types::ReturnValue;
use sha2::{Digest, Sha256};

/// The item key for an address as typed (normalised the way sign-in normalises it).
fn pin_pk(raw_email: &str) -> String {
    let digest = Sha256::digest(raw_email.trim().to_lowercase().as_bytes());
    format!("PIN#{}", hex::encode(digest))
}

fn record(it: &Item) -> Option<PinRecord> {
    Some(PinRecord {
        tenant: TenantId::parse(get_s(it, "tid")?)?,
        user: UserId::parse(get_s(it, "uid")?)?,
        hash: get_s(it, "pin_hash")?.to_owned(),
        expires_at: Timestamp(get_n(it, "expires_at")?),
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

    /// Takes one try at the PIN of `raw_email`: the PIN to check it against, or `None` when
    /// there is none, it expired, or its tries are used up.
    pub async fn take_pin_try(
        &self,
        raw_email: &str,
        now: Timestamp,
    ) -> Result<Option<PinRecord>, StoreError> {
        let res = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pin_pk(raw_email), keys::PIN_SK)))
            .update_expression("ADD tries :one")
            .condition_expression("attribute_exists(pk) AND tries < :max AND expires_at > :now")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(i64::from(PIN_TRIES)))
            .expression_attribute_values(":now", n(now.0))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match res {
            Ok(out) => Ok(out.attributes.as_ref().and_then(record)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Spends the PIN (`hash` is the one checked): `Ok(true)` for exactly one request.
    pub async fn spend_pin(&self, raw_email: &str, hash: &str) -> Result<bool, StoreError> {
        let res = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(pin_pk(raw_email), keys::PIN_SK)))
            .condition_expression("pin_hash = :h")
            .expression_attribute_values(":h", s(hash))
            .send()
            .await;
        condition_held(res)
    }
}
