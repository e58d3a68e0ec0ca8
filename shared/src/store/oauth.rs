//! The OpenID provider's items: registered clients (listed through the GSI), authorization
//! codes, grants and refresh tokens, each keyed by the SHA-256 of its secret (a grant by its
//! id). A code is spent, its grant created and its first refresh token stored in one
//! transaction; a refresh token is rotated the same way; a replay revokes the grant.

use super::attr::{self, get_bool, get_n, get_s, item, key, n, req_s, s, Item};
use super::table::TTL_ATTRIBUTE;
use super::{keys, Store, StoreError};
use crate::domain::oauth::{ClientRecord, CodeRecord, GrantRecord, RefreshRecord};
use crate::domain::{ClientId, GrantId, SessionOwner, TenantId, Timestamp, TokenHash, UserId};

pub const CLIENT_SK: &str = "CLIENT";
pub const CODE_SK: &str = "CODE";
pub const GRANT_SK: &str = "GRANT";
pub const REFRESH_SK: &str = "REFRESH";
/// The GSI partition listing clients (sorted by name).
pub const CLIENTS_GSI_PK: &str = "CLIENTS";

/// `CLIENT#<client id>`.
pub fn client_pk(id: &ClientId) -> String {
    format!("CLIENT#{id}")
}

/// `OAUTHCODE#<sha256 of the code>`.
pub fn code_pk(hash: &TokenHash) -> String {
    format!("OAUTHCODE#{}", hash.as_str())
}

/// `GRANT#<grant id>`.
pub fn grant_pk(id: &GrantId) -> String {
    format!("GRANT#{id}")
}

/// `REFRESH#<sha256 of the refresh token>`.
pub fn refresh_pk(hash: &TokenHash) -> String {
    format!("REFRESH#{}", hash.as_str())
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

fn words(it: &Item, name: &str) -> Vec<String> {
    get_s(it, name)
        .unwrap_or("")
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn client_item(c: &ClientRecord) -> Item {
    let mut it = item([
        ("pk", s(client_pk(&c.id))),
        ("sk", s(CLIENT_SK)),
        ("entity", s("client")),
        ("name", s(&c.name)),
        // Redirect URIs hold no spaces (checked when registered): one string keeps the list.
        ("redirect_uris", s(c.redirect_uris.join(" "))),
        ("post_logout_uris", s(c.post_logout_redirect_uris.join(" "))),
        ("created_at", n(c.created_at.0)),
        ("gsi1pk", s(CLIENTS_GSI_PK)),
        ("gsi1sk", s(format!("{}#{}", c.name.to_lowercase(), c.id))),
    ]);
    if let Some(h) = &c.secret_hash {
        it.insert("secret_hash".into(), s(h.as_str()));
    }
    it
}

fn client(it: &Item) -> Result<ClientRecord, StoreError> {
    let id = req_s(it, "pk")?
        .strip_prefix("CLIENT#")
        .and_then(ClientId::parse)
        .ok_or_else(|| corrupt("client id"))?;
    Ok(ClientRecord {
        id,
        name: req_s(it, "name")?.to_owned(),
        redirect_uris: words(it, "redirect_uris"),
        post_logout_redirect_uris: words(it, "post_logout_uris"),
        secret_hash: get_s(it, "secret_hash").map(|h| TokenHash::from_stored(h.to_owned())),
        created_at: Timestamp(get_n(it, "created_at").unwrap_or(0)),
    })
}

fn owner_attrs(it: &mut Item, session: &TokenHash, o: &SessionOwner) {
    it.insert("sh".into(), s(session.as_str()));
    it.insert("tid".into(), s(o.tenant.as_str()));
    it.insert("uid".into(), s(o.user.as_str()));
    it.insert("home".into(), s(o.home.as_str()));
}

fn owner(it: &Item) -> Result<(TokenHash, SessionOwner), StoreError> {
    let session = TokenHash::from_stored(req_s(it, "sh")?.to_owned());
    let owner = SessionOwner {
        tenant: TenantId::parse(req_s(it, "tid")?).ok_or_else(|| corrupt("tid"))?,
        user: UserId::parse(req_s(it, "uid")?).ok_or_else(|| corrupt("uid"))?,
        home: TenantId::parse(req_s(it, "home")?).ok_or_else(|| corrupt("home"))?,
    };
    Ok((session, owner))
}

fn code(hash: &TokenHash, it: &Item) -> Result<CodeRecord, StoreError> {
    let (session, owner) = owner(it)?;
    Ok(CodeRecord {
        hash: hash.clone(),
        client: ClientId::parse(req_s(it, "cid")?).ok_or_else(|| corrupt("cid"))?,
        redirect_uri: req_s(it, "redirect_uri")?.to_owned(),
        code_challenge: get_s(it, "challenge").map(str::to_owned),
        nonce: get_s(it, "nonce").map(str::to_owned),
        scope: words(it, "scope"),
        session,
        owner,
        grant: GrantId::parse(req_s(it, "gid")?).ok_or_else(|| corrupt("gid"))?,
        expires_at: Timestamp(get_n(it, "expires_at").ok_or_else(|| corrupt("expires_at"))?),
        used: it.contains_key("used_at"),
    })
}

pub(crate) fn grant(id: &GrantId, it: &Item) -> Result<GrantRecord, StoreError> {
    let (session, owner) = owner(it)?;
    Ok(GrantRecord {
        id: id.clone(),
        client: ClientId::parse(req_s(it, "cid")?).ok_or_else(|| corrupt("cid"))?,
        session,
        owner,
        scope: words(it, "scope"),
        revoked: get_bool(it, "revoked"),
        expires_at: Timestamp(get_n(it, "expires_at").unwrap_or(0)),
    })
}

fn refresh(hash: &TokenHash, it: &Item) -> Result<RefreshRecord, StoreError> {
    let (session, owner) = owner(it)?;
    Ok(RefreshRecord {
        session,
        owner,
        hash: hash.clone(),
        grant: GrantId::parse(req_s(it, "gid")?).ok_or_else(|| corrupt("gid"))?,
        client: ClientId::parse(req_s(it, "cid")?).ok_or_else(|| corrupt("cid"))?,
        rotated: it.contains_key("rotated_at"),
        expires_at: Timestamp(get_n(it, "expires_at").ok_or_else(|| corrupt("expires_at"))?),
    })
}

fn refresh_item(r: &RefreshRecord) -> Item {
    let mut it = item([
        ("pk", s(refresh_pk(&r.hash))),
        ("sk", s(REFRESH_SK)),
        ("entity", s("refresh_token")),
        ("gid", s(r.grant.as_str())),
        ("cid", s(r.client.as_str())),
        ("expires_at", n(r.expires_at.0)),
        (TTL_ATTRIBUTE, n(r.expires_at.0)),
    ]);
    owner_attrs(&mut it, &r.session, &r.owner);
    it
}

/// What a token request found: the client it named and the code or refresh token it
/// presented, read together.
pub struct Presented<T> {
    pub client: Option<ClientRecord>,
    pub token: Option<T>,
}

impl Store {
    /// Registers a client; Conflict if the id is taken.
    pub async fn put_client(&self, c: &ClientRecord) -> Result<(), StoreError> {
        let put = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(client_item(c)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        attr::condition_held(put).and_then(|held| {
            held.then_some(())
                .ok_or(StoreError::Conflict { reasons: vec![] })
        })
    }

    /// Replaces a client's secret hash; `Ok(false)` for an unknown client.
    pub async fn set_client_secret(
        &self,
        id: &ClientId,
        hash: &TokenHash,
    ) -> Result<bool, StoreError> {
        let update = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(client_pk(id), CLIENT_SK)))
            .update_expression("SET secret_hash = :h")
            .condition_expression("attribute_exists(secret_hash)")
            .expression_attribute_values(":h", s(hash.as_str()))
            .send()
            .await;
        attr::condition_held(update)
    }

    pub async fn get_client(&self, id: &ClientId) -> Result<Option<ClientRecord>, StoreError> {
        self.get(client_pk(id), CLIENT_SK)
            .await?
            .as_ref()
            .map(client)
            .transpose()
    }

    /// Removes a client; `Ok(false)` for an unknown one. Its grants die with it: every token
    /// request names the client, and a client that is gone is refused.
    pub async fn delete_client(&self, id: &ClientId) -> Result<bool, StoreError> {
        let delete = self
            .db
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key(client_pk(id), CLIENT_SK)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        attr::condition_held(delete)
    }

    /// Every client, sorted by name.
    pub async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.listed(CLIENTS_GSI_PK)
            .await?
            .iter()
            .map(client)
            .collect()
    }

    /// Stores a new code (kept after its minute, so that a replay can still be recognised)
    /// with the event of the sign-in to the app, in one transaction.
    pub async fn put_code(
        &self,
        c: &CodeRecord,
        audit: &crate::domain::AuditEvent,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut it = item([
            ("pk", s(code_pk(&c.hash))),
            ("sk", s(CODE_SK)),
            ("entity", s("authorization_code")),
            ("cid", s(c.client.as_str())),
            ("redirect_uri", s(&c.redirect_uri)),
            ("scope", s(c.scope.join(" "))),
            ("gid", s(c.grant.as_str())),
            ("expires_at", n(c.expires_at.0)),
            (
                TTL_ATTRIBUTE,
                n(now.0 + crate::domain::oauth::SPENT_CODE_KEPT_SECS),
            ),
        ]);
        owner_attrs(&mut it, &c.session, &c.owner);
        if let Some(ch) = &c.code_challenge {
            it.insert("challenge".into(), s(ch));
        }
        if let Some(nonce) = &c.nonce {
            it.insert("nonce".into(), s(nonce));
        }
        let writes = vec![
            attr::put(&self.table, it, "attribute_not_exists(pk)")?,
            self.audit_put(audit, &mut rand::rngs::OsRng)?,
        ];
        self.transact(writes).await
    }

    /// The client a token request names and the item of the code or refresh token it
    /// presented (`None` for one not shaped like ours: only the client is read), in one
    /// request.
    async fn client_with(
        &self,
        client_id: &ClientId,
        token_key: Option<(String, &str)>,
    ) -> Result<(Option<ClientRecord>, Option<Item>), StoreError> {
        let client_key = (client_pk(client_id), CLIENT_SK.to_owned());
        let token_key = token_key.map(|(pk, sk)| (pk, sk.to_owned()));
        let mut keys = vec![client_key.clone()];
        keys.extend(token_key.clone());
        let mut found = self.get_many(keys).await?;
        let client = found.remove(&client_key).as_ref().map(client).transpose()?;
        Ok((client, token_key.and_then(|k| found.remove(&k))))
    }

    /// The client and the code a token request names, in one request.
    pub async fn presented_code(
        &self,
        client_id: &ClientId,
        hash: Option<&TokenHash>,
    ) -> Result<Presented<CodeRecord>, StoreError> {
        let key = hash.map(|h| (code_pk(h), CODE_SK));
        let (client, item) = self.client_with(client_id, key).await?;
        Ok(Presented {
            client,
            token: hash.zip(item).map(|(h, it)| code(h, &it)).transpose()?,
        })
    }

    /// The client and the refresh token a token request names, in one request.
    pub async fn presented_refresh(
        &self,
        client_id: &ClientId,
        hash: Option<&TokenHash>,
    ) -> Result<Presented<RefreshRecord>, StoreError> {
        let key = hash.map(|h| (refresh_pk(h), REFRESH_SK));
        let (client, item) = self.client_with(client_id, key).await?;
        Ok(Presented {
            client,
            token: hash.zip(item).map(|(h, it)| refresh(h, &it)).transpose()?,
        })
    }

    /// Spends `code` and starts its grant (with its first refresh token, if any) in one
    /// transaction; Conflict when the code was spent meanwhile (a replay racing the first
    /// use) or the grant was revoked before it began.
    pub async fn exchange_code(
        &self,
        code: &CodeRecord,
        grant: &GrantRecord,
        refresh: Option<&RefreshRecord>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut grant_item = item([
            ("pk", s(grant_pk(&grant.id))),
            ("sk", s(GRANT_SK)),
            ("entity", s("grant")),
            ("cid", s(grant.client.as_str())),
            ("scope", s(grant.scope.join(" "))),
            ("created_at", n(now.0)),
            ("expires_at", n(grant.expires_at.0)),
            (TTL_ATTRIBUTE, n(grant.expires_at.0)),
        ]);
        owner_attrs(&mut grant_item, &grant.session, &grant.owner);
        let mut writes = vec![
            attr::update(
                &self.table,
                key(code_pk(&code.hash), CODE_SK),
                "SET used_at = :now",
                "attribute_exists(pk) AND attribute_not_exists(used_at)",
                item([(":now", n(now.0))]),
            )?,
            attr::put(&self.table, grant_item, "attribute_not_exists(pk)")?,
        ];
        if let Some(r) = refresh {
            writes.push(attr::put(
                &self.table,
                refresh_item(r),
                "attribute_not_exists(pk)",
            )?);
        }
        self.transact(writes).await
    }

    /// Rotates `old` into `new` on a grant that is not revoked, and records the session's
    /// activity (an app refreshing is the person at work: the session does not idle out
    /// under it); Conflict when `old` was rotated meanwhile (a reuse racing the first), the
    /// grant was revoked or the session is gone.
    pub async fn rotate_refresh(
        &self,
        old: &RefreshRecord,
        new: &RefreshRecord,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let writes = vec![
            attr::update(
                &self.table,
                key(refresh_pk(&old.hash), REFRESH_SK),
                "SET rotated_at = :now",
                "attribute_exists(pk) AND attribute_not_exists(rotated_at)",
                item([(":now", n(now.0))]),
            )?,
            attr::put(&self.table, refresh_item(new), "attribute_not_exists(pk)")?,
            attr::check(
                &self.table,
                key(grant_pk(&old.grant), GRANT_SK),
                "attribute_exists(pk) AND attribute_not_exists(revoked)",
                Item::new(),
            )?,
            attr::update(
                &self.table,
                key(keys::session_pk(&old.session), keys::SESSION_SK),
                "SET last_seen = :now",
                "attribute_exists(pk)",
                item([(":now", n(now.0))]),
            )?,
        ];
        self.transact(writes).await
    }

    /// Revokes a grant: its refresh tokens and access tokens are refused from now on (at
    /// userinfo; the authorizer lets an access token live out its minutes). Written even
    /// before the grant exists, so that an exchange still in flight cannot start it.
    pub async fn revoke_grant(
        &self,
        id: &GrantId,
        keep_until: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(grant_pk(id), GRANT_SK)))
            .update_expression(
                "SET revoked = :t, revoked_at = :now, #ttl = if_not_exists(#ttl, :keep)",
            )
            .expression_attribute_names("#ttl", TTL_ATTRIBUTE)
            .expression_attribute_values(":t", attr::b(true))
            .expression_attribute_values(":now", n(now.0))
            .expression_attribute_values(":keep", n(keep_until.0))
            .send()
            .await?;
        Ok(())
    }
}

/// Whether a stored grant item is revoked (for [`super::fetch::Fetch::grant`], which may
/// find one that only records a revocation).
pub(crate) fn is_revoked(it: &Item) -> bool {
    get_bool(it, "revoked")
}
