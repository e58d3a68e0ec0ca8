//! Reading several items in one request. A step that needs the caller's user, tenant and guess
//! counter (or the counters, the email index and the domain route of a sign-in) asks for all
//! of them at once with a [`Fetch`]: one BatchGetItem, read consistently, instead of a chain of
//! GetItems, each waiting for the one before.

use super::passkeys::{self, PasskeyChallenge};
use super::throttle::{self, ThrottleKey};
use super::{items, keys, oauth, Store, StoreError};
use crate::domain::device::DeviceRecord;
use crate::domain::oauth::GrantRecord;
use crate::domain::pin::PinRecord;
use crate::domain::throttle::Counter;
use crate::domain::{
    Credentials, Email, GrantId, PlatformConfig, SessionRecord, TenantId, TenantRecord, TenantSso,
    TokenHash, UserId, UserRecord,
};

/// The items one request should read. Builders add a key; absent items come back as `None`.
#[derive(Debug, Default, Clone)]
pub struct Fetch {
    counters: Vec<ThrottleKey>,
    email: Option<Email>,
    domain: Option<String>,
    user: Option<(TenantId, UserId)>,
    tenant: Option<TenantId>,
    sso: Option<TenantId>,
    platform: Option<TenantId>,
    pin: Option<(String, String)>,
    identity: Option<(String, String)>,
    member: Option<(TenantId, UserId)>,
    device: Option<TokenHash>,
    session: Option<TokenHash>,
    home: Option<TenantId>,
    grant: Option<GrantId>,
    passkey_owner: Option<String>,
    passkey_challenge: Option<Vec<u8>>,
}

/// What a [`Fetch`] found.
#[derive(Default)]
pub struct Fetched {
    /// In the order the keys were given; `None`: no counter yet.
    pub counters: Vec<Option<Counter>>,
    /// The user the email index names.
    pub email_ids: Option<(TenantId, UserId)>,
    /// The tenant that verified the email domain (whose provider may route it).
    pub domain_tenant: Option<TenantId>,
    pub user: Option<(UserRecord, Credentials)>,
    pub tenant: Option<TenantRecord>,
    /// The single sign-on configuration and its version (the default when none was saved).
    pub sso: Option<(TenantSso, i64)>,
    pub platform: Option<PlatformConfig>,
    /// The sign-in PIN of the address asked for.
    pub pin: Option<PinRecord>,
    /// The user an external identity (issuer, subject) is linked to.
    pub identity_ids: Option<(TenantId, UserId)>,
    /// Another user of the tenant, whom an admin's write is about.
    pub member: Option<UserRecord>,
    /// The device the browser's cookie names, whoever's it is (the caller checks that).
    pub device: Option<DeviceRecord>,
    /// The session a cookie's hash names (the caller checks whose it is).
    pub session: Option<SessionRecord>,
    /// The MSP of a session acting in an organization it manages.
    pub home: Option<TenantRecord>,
    /// The OpenID provider's grant asked for, unless it is revoked (or gone).
    pub grant: Option<GrantRecord>,
    /// The user a passkey belongs to, by its credential id.
    pub passkey_owner: Option<(TenantId, UserId)>,
    /// A discoverable sign-in's state, by its challenge.
    pub passkey_challenge: Option<PasskeyChallenge>,
}

impl Fetch {
    pub fn counters(mut self, keys: impl IntoIterator<Item = ThrottleKey>) -> Self {
        self.counters.extend(keys);
        self
    }

    pub fn email_index(mut self, email: &Email) -> Self {
        self.email = Some(email.clone());
        self
    }

    pub fn domain_route(mut self, domain: &str) -> Self {
        self.domain = Some(domain.to_owned());
        self
    }

    pub fn user(mut self, tid: &TenantId, uid: &UserId) -> Self {
        self.user = Some((tid.clone(), uid.clone()));
        self
    }

    pub fn tenant(mut self, tid: &TenantId) -> Self {
        self.tenant = Some(tid.clone());
        self
    }

    pub fn sso(mut self, tid: &TenantId) -> Self {
        self.sso = Some(tid.clone());
        self
    }

    pub fn platform(mut self, tid: &TenantId) -> Self {
        self.platform = Some(tid.clone());
        self
    }

    /// The sign-in PIN of an address as typed, with the tries of `source_ip`.
    pub fn pin(mut self, raw_email: &str, source_ip: &str) -> Self {
        self.pin = Some((raw_email.to_owned(), source_ip.to_owned()));
        self
    }

    /// A sign-in's second read: the user and tenant its first read found (nobody's, for the
    /// same work, when it found none), with the single sign-on configuration of the tenant the
    /// address's domain is routed to, if any (see [`Fetched::routes`]).
    pub fn sign_in_target(ids: Option<(TenantId, UserId)>, routed: Option<&TenantId>) -> Self {
        let (tid, uid) = ids.unwrap_or_else(|| (TenantId::nobody(), UserId::nobody()));
        let fetch = Self::default().user(&tid, &uid).tenant(&tid);
        match routed {
            Some(t) => fetch.sso(t),
            None => fetch,
        }
    }

    /// The link of an external identity (issuer, subject) to a user.
    pub fn identity(mut self, issuer: &str, sub: &str) -> Self {
        self.identity = Some((issuer.to_owned(), sub.to_owned()));
        self
    }

    /// Another user of a tenant (the one an admin's write is about), besides [`Fetch::user`].
    pub fn member(mut self, tid: &TenantId, uid: &UserId) -> Self {
        self.member = Some((tid.clone(), uid.clone()));
        self
    }

    /// The device a browser's cookie names (its hash), if it sent one.
    pub fn device(mut self, hash: Option<TokenHash>) -> Self {
        self.device = hash;
        self
    }

    /// The session a cookie's hash names.
    pub fn session(mut self, hash: &TokenHash) -> Self {
        self.session = Some(hash.clone());
        self
    }

    /// The tenant of the caller, when the session acts in another (an organization their
    /// MSP manages), beside [`Fetch::tenant`].
    pub fn home(mut self, tid: &TenantId) -> Self {
        self.home = Some(tid.clone());
        self
    }

    /// A grant of the OpenID provider (whose tokens a request presents).
    pub fn grant(mut self, id: &GrantId) -> Self {
        self.grant = Some(id.clone());
        self
    }

    /// The user of the passkey with credential id `cred_id` (base64url).
    pub fn passkey_owner(mut self, cred_id: &str) -> Self {
        self.passkey_owner = Some(cred_id.to_owned());
        self
    }

    /// The discoverable sign-in that gave out `challenge` (its bytes).
    pub fn passkey_challenge(mut self, challenge: &[u8]) -> Self {
        self.passkey_challenge = Some(challenge.to_vec());
        self
    }

    fn keys(&self) -> Vec<(String, String)> {
        let mut keys: Vec<(String, String)> = self
            .counters
            .iter()
            .map(|k| (k.as_str().to_owned(), keys::THROTTLE_SK.to_owned()))
            .collect();
        let mut add = |pk: String, sk: &str| keys.push((pk, sk.to_owned()));
        if let Some(e) = &self.email {
            add(keys::email_pk(e), keys::EMAIL_SK);
        }
        if let Some(d) = &self.domain {
            add(keys::domain_pk(d), keys::DOMAIN_SK);
        }
        if let Some((tid, uid)) = &self.user {
            add(keys::tenant_pk(tid), &keys::user_sk(uid));
        }
        if let Some(tid) = &self.tenant {
            add(keys::tenant_pk(tid), keys::META);
        }
        if let Some(tid) = &self.sso {
            add(keys::tenant_pk(tid), keys::SSO_SK);
        }
        if let Some(tid) = &self.platform {
            add(keys::tenant_pk(tid), keys::PLATFORM_SK);
        }
        if let Some((address, _)) = &self.pin {
            add(super::pins::pin_pk(address), keys::PIN_SK);
        }
        if let Some((issuer, sub)) = &self.identity {
            add(keys::idp_pk(issuer, sub), keys::IDP_SK);
        }
        if let Some((tid, uid)) = &self.member {
            add(keys::tenant_pk(tid), &keys::user_sk(uid));
        }
        if let Some(h) = &self.device {
            add(super::devices::device_pk(h), keys::DEVICE_SK);
        }
        if let Some(h) = &self.session {
            add(keys::session_pk(h), keys::SESSION_SK);
        }
        if let Some(tid) = &self.home {
            add(keys::tenant_pk(tid), keys::META);
        }
        if let Some(g) = &self.grant {
            add(oauth::grant_pk(g), oauth::GRANT_SK);
        }
        if let Some(c) = &self.passkey_owner {
            keys.push(passkeys::owner_keys(c));
        }
        if let Some(c) = &self.passkey_challenge {
            keys.push(passkeys::challenge_keys(c));
        }
        keys
    }
}

impl Fetched {
    /// Whether `email` signs in at its organisation's identity provider, by the single sign-on
    /// configuration read ([`Fetch::sign_in_target`]): then no password or PIN may sign it in.
    pub fn routes(&self, email: Option<&Email>) -> bool {
        match (&self.sso, email) {
            (Some((sso, _)), Some(e)) => sso.route(e.domain()).is_some(),
            _ => false,
        }
    }
}

impl Store {
    /// Reads every item `fetch` names in one consistent BatchGetItem (none at all when it
    /// names nothing).
    pub async fn fetch(&self, fetch: &Fetch) -> Result<Fetched, StoreError> {
        let mut found = self.get_many(fetch.keys()).await?;
        let mut take = |pk: String, sk: &str| found.remove(&(pk, sk.to_owned()));
        let counters = fetch
            .counters
            .iter()
            .map(|k| {
                take(k.as_str().to_owned(), keys::THROTTLE_SK)
                    .as_ref()
                    .map(throttle::counter)
            })
            .collect();
        let email_ids = match &fetch.email {
            Some(e) => take(keys::email_pk(e), keys::EMAIL_SK)
                .as_ref()
                .map(items::email_index_ids)
                .transpose()?,
            None => None,
        };
        let domain_tenant = match &fetch.domain {
            Some(d) => match take(keys::domain_pk(d), keys::DOMAIN_SK) {
                Some(it) => items::verified_owner(&it)?,
                None => None,
            },
            None => None,
        };
        // The member may be the caller themself: read without taking it from the caller.
        let member = match &fetch.member {
            Some((tid, uid)) => found
                .get(&(keys::tenant_pk(tid), keys::user_sk(uid)))
                .map(items::user)
                .transpose()?,
            None => None,
        };
        let mut take = |pk: String, sk: &str| found.remove(&(pk, sk.to_owned()));
        let user = match &fetch.user {
            Some((tid, uid)) => match take(keys::tenant_pk(tid), &keys::user_sk(uid)) {
                Some(it) => Some((items::user(&it)?, items::credentials(&it))),
                None => None,
            },
            None => None,
        };
        let tenant = match &fetch.tenant {
            Some(tid) => take(keys::tenant_pk(tid), keys::META)
                .as_ref()
                .map(items::tenant)
                .transpose()?,
            None => None,
        };
        let sso = match &fetch.sso {
            Some(tid) => Some(match take(keys::tenant_pk(tid), keys::SSO_SK) {
                Some(it) => items::tenant_sso(&it)?,
                None => (TenantSso::default(), 0),
            }),
            None => None,
        };
        let platform = match &fetch.platform {
            Some(tid) => take(keys::tenant_pk(tid), keys::PLATFORM_SK)
                .as_ref()
                .map(items::platform)
                .transpose()?,
            None => None,
        };
        let pin = match &fetch.pin {
            Some((address, source)) => take(super::pins::pin_pk(address), keys::PIN_SK)
                .as_ref()
                .and_then(|it| super::pins::record(it, source)),
            None => None,
        };
        let identity_ids = match &fetch.identity {
            Some((issuer, sub)) => take(keys::idp_pk(issuer, sub), keys::IDP_SK)
                .as_ref()
                .map(items::linked_ids)
                .transpose()?,
            None => None,
        };
        let device = match &fetch.device {
            Some(h) => take(super::devices::device_pk(h), keys::DEVICE_SK)
                .and_then(|it| super::devices::record(h.clone(), &it)),
            None => None,
        };
        let home = match &fetch.home {
            Some(tid) => take(keys::tenant_pk(tid), keys::META)
                .as_ref()
                .map(items::tenant)
                .transpose()?,
            None => None,
        };
        let session = match &fetch.session {
            Some(h) => take(keys::session_pk(h), keys::SESSION_SK)
                .map(|it| items::session_record(h.clone(), &it))
                .transpose()?,
            None => None,
        };
        let grant = match &fetch.grant {
            Some(g) => take(oauth::grant_pk(g), oauth::GRANT_SK)
                .filter(|it| !oauth::is_revoked(it))
                .map(|it| oauth::grant(g, &it))
                .transpose()?,
            None => None,
        };
        let passkey_owner = match &fetch.passkey_owner {
            Some(c) => found
                .remove(&passkeys::owner_keys(c))
                .and_then(|it| passkeys::owner(&it)),
            None => None,
        };
        let passkey_challenge = match &fetch.passkey_challenge {
            Some(c) => found
                .remove(&passkeys::challenge_keys(c))
                .and_then(|it| passkeys::challenge(&it)),
            None => None,
        };
        Ok(Fetched {
            passkey_owner,
            passkey_challenge,
            grant,
            home,
            session,
            device,
            member,
            identity_ids,
            pin,
            counters,
            email_ids,
            domain_tenant,
            user,
            tenant,
            sso,
            platform,
        })
    }
}
