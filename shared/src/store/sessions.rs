//! Session items: `SESSION#<sha256 of id>`. Looked up on every request, so revocation (logout,
//! password reset, role change) takes effect at once.

use super::attr::{self, item, key, n, s};
use super::users::CredentialChange;
use super::{items, keys, Store, StoreError, Writes};
use crate::domain::{
    AuditEvent, SessionRecord, TenantId, Timestamp, TokenHash, UserId, UserRecord,
};
use rand::RngCore;

/// The write that records when a user signed in.
fn last_login(
    table: &str,
    user: &UserRecord,
    at: Timestamp,
) -> Result<aws_sdk_dynamodb::types::TransactWriteItem, StoreError> {
    attr::update(
        table,
        key(keys::tenant_pk(&user.tenant), &keys::user_sk(&user.id)),
        "SET last_login_at = :now",
        "attribute_exists(pk)",
        item([(":now", n(at.0))]),
    )
}

/// A session still there and, with `ceremony`, still holding that challenge.
fn session_condition(ceremony: Option<&str>) -> (&'static str, attr::Item) {
    match ceremony {
        Some(c) => ("ceremony = :c", item([(":c", s(c))])),
        None => ("attribute_exists(pk)", attr::Item::new()),
    }
}

/// The sessions among a user's GSI items (devices are listed there too).
pub(super) fn sessions_in(found: &[attr::Item]) -> Result<Vec<SessionRecord>, StoreError> {
    found
        .iter()
        .filter_map(|it| {
            let hash = it
                .get("pk")
                .and_then(|v| v.as_s().ok())
                .and_then(|pk| keys::session_hash(pk))?;
            Some(items::session_record(hash, it))
        })
        .collect()
}

impl Store {
    pub async fn put_session(&self, session: &SessionRecord) -> Result<(), StoreError> {
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(items::session(session)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await?;
        Ok(())
    }

    /// `writes` in one transaction (a sign-in that settles no guess: the session it starts
    /// and what goes with it).
    pub async fn commit(&self, Writes(writes): Writes) -> Result<(), StoreError> {
        self.transact(writes).await
    }

    /// A new session with the audit events of the step that earned it; a full session (a
    /// sign-in through the identity provider) also records the sign-in time. For one
    /// transaction, with what the step spends or settles.
    pub fn session_writes(
        &self,
        session: &SessionRecord,
        user: &UserRecord,
        events: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<Writes, StoreError> {
        let mut writes = vec![attr::put(
            &self.table,
            items::session(session),
            "attribute_not_exists(pk)",
        )?];
        if session.level == crate::domain::Level::Full {
            writes.push(last_login(&self.table, user, session.created_at)?);
        }
        for e in events {
            writes.push(self.audit_put(e, rng)?);
        }
        Ok(Writes(writes))
    }

    pub async fn get_session(&self, hash: &TokenHash) -> Result<Option<SessionRecord>, StoreError> {
        self.get(keys::session_pk(hash), keys::SESSION_SK)
            .await?
            .map(|it| items::session_record(hash.clone(), &it))
            .transpose()
    }

    /// The session `old` under a new id (`new`: the same session, acting elsewhere), with
    /// its audit event, in one transaction; Conflict when `old` was gone (signed out, ended
    /// elsewhere).
    pub async fn move_session(
        &self,
        old: &TokenHash,
        new: &SessionRecord,
        audit: &AuditEvent,
        rng: &mut impl RngCore,
    ) -> Result<(), StoreError> {
        let writes = vec![
            attr::delete(
                &self.table,
                key(keys::session_pk(old), keys::SESSION_SK),
                "attribute_exists(pk)",
                attr::Item::new(),
            )?,
            attr::put(&self.table, items::session(new), "attribute_not_exists(pk)")?,
            self.audit_put(audit, rng)?,
        ];
        self.transact(writes).await
    }

    pub async fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::session_pk(hash), keys::SESSION_SK)))
            .send()
            .await?;
        Ok(())
    }

    /// What a second factor proved at sign-in leads to, for [`Store::settle`]: `spend` on the
    /// user item (the code counted once) with the sign-in time (element 0), the old session
    /// gone — on `ceremony`, when a security key answered its challenge, which is spent with
    /// it — (element 1), the new full session stored (2) and `events` recorded.
    #[allow(clippy::too_many_arguments)]
    pub fn sign_in_writes(
        &self,
        old: &TokenHash,
        ceremony: Option<&str>,
        new: &SessionRecord,
        user: &UserRecord,
        spend: CredentialChange,
        events: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<Writes, StoreError> {
        let (condition, values) = session_condition(ceremony);
        let mut writes = vec![
            spend.sign_in_write(&self.table, user, new.created_at.0)?,
            attr::delete(
                &self.table,
                key(keys::session_pk(old), keys::SESSION_SK),
                condition,
                values,
            )?,
            attr::put(&self.table, items::session(new), "attribute_not_exists(pk)")?,
        ];
        for e in events {
            writes.push(self.audit_put(e, rng)?);
        }
        Ok(Writes(writes))
    }

    /// What a second factor proved again (before a change of factors) leads to: `spend` on the
    /// user item (element 0), the session recording the proof at `now` and losing its
    /// ceremony — on `ceremony`, when a key answered it — (element 1), `events` recorded.
    #[allow(clippy::too_many_arguments)]
    pub fn proof_writes(
        &self,
        session: &TokenHash,
        ceremony: Option<&str>,
        now: Timestamp,
        user: &UserRecord,
        spend: CredentialChange,
        events: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<Writes, StoreError> {
        let (condition, mut values) = session_condition(ceremony);
        values.insert(":now".into(), n(now.0));
        let mut writes = vec![
            spend.resetting_failures().write(&self.table, user)?,
            attr::update(
                &self.table,
                key(keys::session_pk(session), keys::SESSION_SK),
                "SET proved_at = :now, last_seen = :now REMOVE ceremony",
                condition,
                values,
            )?,
        ];
        for e in events {
            writes.push(self.audit_put(e, rng)?);
        }
        Ok(Writes(writes))
    }

    /// What a wrong second factor leads to: `events` recorded and, when it answered a security
    /// key's challenge, the challenge spent (element 0 then: the session must still exist).
    pub fn failure_writes(
        &self,
        spent_ceremony: Option<&TokenHash>,
        events: &[AuditEvent],
        rng: &mut impl RngCore,
    ) -> Result<Writes, StoreError> {
        let mut writes = Vec::new();
        if let Some(session) = spent_ceremony {
            writes.push(attr::update(
                &self.table,
                key(keys::session_pk(session), keys::SESSION_SK),
                "REMOVE ceremony",
                "attribute_exists(pk)",
                attr::Item::new(),
            )?);
        }
        for e in events {
            writes.push(self.audit_put(e, rng)?);
        }
        Ok(Writes(writes))
    }

    /// The user's session items, oldest first, through the GSI (the caller keeps the live
    /// ones: ended sessions linger until their TTL).
    pub async fn list_sessions(
        &self,
        tid: &TenantId,
        uid: &UserId,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        sessions_in(&self.user_gsi_items(tid, uid).await?)
    }

    /// Everything listed under a user in the GSI: their sessions and devices.
    pub(super) async fn user_gsi_items(
        &self,
        tid: &TenantId,
        uid: &UserId,
    ) -> Result<Vec<attr::Item>, StoreError> {
        let q = self
            .db
            .query()
            .table_name(&self.table)
            .index_name(super::table::GSI1)
            .key_condition_expression("gsi1pk = :p")
            .expression_attribute_values(":p", s(keys::user_sessions_gsi_pk(tid, uid)));
        self.query_all(q).await
    }

    /// Ends one of `user`'s sessions: `Ok(false)` when it is not theirs (or gone).
    pub async fn end_session_of(
        &self,
        user: &UserRecord,
        hash: &TokenHash,
    ) -> Result<bool, StoreError> {
        let k = key(keys::session_pk(hash), keys::SESSION_SK);
        self.delete_of(k, user, "", attr::Item::new()).await
    }

    /// One conditional update of a session item: `Ok(false)` when `condition` failed.
    async fn update_session(
        &self,
        hash: &TokenHash,
        expression: &str,
        condition: &str,
        values: attr::Item,
    ) -> Result<bool, StoreError> {
        let res = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(keys::session_pk(hash), keys::SESSION_SK)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        attr::condition_held(res)
    }

    /// Spends the session's ceremony state `ceremony`: `Ok(true)` for exactly one request, so
    /// that a challenge answers one response only, even when two arrive together.
    pub async fn spend_ceremony(
        &self,
        hash: &TokenHash,
        ceremony: &str,
    ) -> Result<bool, StoreError> {
        let values = item([(":c", s(ceremony))]);
        self.update_session(hash, "REMOVE ceremony", "ceremony = :c", values)
            .await
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
            .set_key(Some(key(keys::session_pk(hash), keys::SESSION_SK)))
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
