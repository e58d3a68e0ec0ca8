//! Device items: `DEVICE#<sha256 of the cookie>` / `DEVICE`, listed per user through the GSI
//! with their sessions (`SESSIONS#<tid>#<uid>`). Written in the transaction of the sign-in that issues or uses the
//! device; read with a sign-in's first batch (or the caller's) when the browser sends one.

use super::attr::{self, get_n, get_s, item, key, n, req_n, s, Item};
use super::table::TTL_ATTRIBUTE;
use super::{keys, Store, StoreError, Writes};
use crate::domain::device::DeviceRecord;
use crate::domain::{SessionRecord, TenantId, Timestamp, TokenHash, UserId, UserRecord};

/// The condition of a write that must never fail its transaction.
const ALWAYS: &str = "attribute_exists(pk) OR attribute_not_exists(pk)";

pub fn device_pk(hash: &TokenHash) -> String {
    format!("DEVICE#{}", hash.as_str())
}

pub(super) fn item_of(d: &DeviceRecord) -> Item {
    item([
        ("pk", s(device_pk(&d.hash))),
        ("sk", s(keys::DEVICE_SK)),
        ("entity", s("device")),
        ("tid", s(d.tenant.as_str())),
        ("uid", s(d.user.as_str())),
        ("epoch", n(d.epoch)),
        ("created_at", n(d.created_at.0)),
        ("last_used_at", n(d.last_used_at.0)),
        ("user_agent", s(&d.user_agent)),
        ("expires_at", n(d.expires_at.0)),
        (TTL_ATTRIBUTE, n(d.expires_at.0)),
        // Beside the user's sessions: the account page lists both with one query.
        ("gsi1pk", s(keys::user_sessions_gsi_pk(&d.tenant, &d.user))),
        ("gsi1sk", s(format!("{:012}", d.created_at.0))),
    ])
}

/// The device an item holds; `None` for anything that is not a whole device item (a device
/// forgotten while a sign-in was recording its use leaves such a remnant, which expires).
pub(super) fn record(hash: TokenHash, it: &Item) -> Option<DeviceRecord> {
    Some(DeviceRecord {
        hash,
        tenant: TenantId::parse(get_s(it, "tid")?)?,
        user: UserId::parse(get_s(it, "uid")?)?,
        epoch: get_n(it, "epoch")?,
        created_at: Timestamp(req_n(it, "created_at").ok()?),
        last_used_at: Timestamp(get_n(it, "last_used_at")?),
        user_agent: get_s(it, "user_agent").unwrap_or_default().to_owned(),
        expires_at: Timestamp(get_n(it, "expires_at")?),
    })
}

impl Store {
    /// A new device, for the transaction of the sign-in that issues it.
    pub fn device_issue_writes(&self, device: &DeviceRecord) -> Result<Writes, StoreError> {
        Ok(Writes(vec![attr::put(
            &self.table,
            item_of(device),
            "attribute_not_exists(pk)",
        )?]))
    }

    /// A device used again for a sign-in at `now`, by a browser describing itself as
    /// `user_agent`. Unconditional, so that a device forgotten meanwhile cannot fail the
    /// sign-in: the remnant it leaves is no device ([`record`]) and expires within a day.
    pub fn device_use_writes(
        &self,
        hash: &TokenHash,
        now: Timestamp,
        user_agent: &str,
    ) -> Result<Writes, StoreError> {
        let mut values = item([
            (":now", n(now.0)),
            (":soon", n(now.plus_secs(crate::domain::time::DAY).0)),
        ]);
        // `ttl` is a reserved word: `#ttl` (attr.rs supplies the name).
        let mut update = "SET last_used_at = :now, #ttl = if_not_exists(#ttl, :soon)".to_owned();
        // An empty value may not appear in an expression; no description keeps the old one.
        if !user_agent.is_empty() {
            values.insert(":ua".into(), s(user_agent));
            update.push_str(", user_agent = :ua");
        }
        Ok(Writes(vec![attr::update(
            &self.table,
            key(device_pk(hash), keys::DEVICE_SK),
            &update,
            ALWAYS,
            values,
        )?]))
    }

    /// This browser's device carried to the user's new `epoch` ("sign out everywhere else"
    /// forgets every other device), in the transaction that moves the epoch.
    pub fn device_keep_writes(
        &self,
        device: &DeviceRecord,
        epoch: i64,
    ) -> Result<Writes, StoreError> {
        let kept = DeviceRecord {
            epoch,
            ..device.clone()
        };
        Ok(Writes(vec![attr::put_new(&self.table, item_of(&kept))?]))
    }

    /// A device revoked (its own guesses ran out), for the transaction that counts the guess.
    pub fn device_revoke_writes(&self, hash: &TokenHash) -> Result<Writes, StoreError> {
        Ok(Writes(vec![attr::delete(
            &self.table,
            key(device_pk(hash), keys::DEVICE_SK),
            ALWAYS,
            Item::new(),
        )?]))
    }

    /// The session and device items of a user, from one query of the GSI partition they
    /// share (the caller keeps the live sessions and the devices still the user's,
    /// [`DeviceRecord::is_of`]: ended ones linger until their TTL).
    pub async fn list_sessions_and_devices(
        &self,
        tid: &TenantId,
        uid: &UserId,
    ) -> Result<(Vec<SessionRecord>, Vec<DeviceRecord>), StoreError> {
        let items = self.user_gsi_items(tid, uid).await?;
        let devices = items
            .iter()
            .filter_map(|it| {
                let pk = get_s(it, "pk")?.strip_prefix("DEVICE#")?;
                record(TokenHash::from_stored(pk.to_owned()), it)
            })
            .collect();
        Ok((super::sessions::sessions_in(&items)?, devices))
    }

    /// Forgets one of `user`'s devices: `Ok(false)` when it is not theirs (or gone).
    pub async fn forget_device_of(
        &self,
        user: &UserRecord,
        hash: &TokenHash,
    ) -> Result<bool, StoreError> {
        let k = key(device_pk(hash), keys::DEVICE_SK);
        let epoch = item([(":e", n(user.session_epoch))]);
        self.delete_of(k, user, " AND epoch = :e", epoch).await
    }
}
