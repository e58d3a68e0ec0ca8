//! Domain records to DynamoDB items and back. Every attribute name of every entity is written
//! here and nowhere else; the operation modules (`users.rs`, `members.rs`...) only combine them.

use super::attr::{b, get_bool, get_n, get_s, item, n, req_n, req_s, s, Item};
use super::keys;
use super::table::TTL_ATTRIBUTE;
use super::StoreError;
use crate::domain::factors::{PendingPhone, SentCode};
use crate::domain::organization::NewOrganization;
use crate::domain::{
    AuditEvent, Credentials, DomainClaim, Email, Level, NewTenant, OneTimeToken, Role, SealedSeed,
    SecondFactors, SecurityKeys, SessionRecord, SsoPurpose, SsoState, TenantId, TenantRecord,
    TenantSso, Timestamp, TokenHash, TokenKind, TokenRecord, TotpFactor, UserId, UserRecord,
    UserStatus, VerifiedBy,
};
use rand::RngCore;
use secrecy::SecretString;

fn corrupt(entity: &str, what: &str) -> StoreError {
    StoreError::Corrupt(format!("{entity} item: {what}"))
}

fn tenant_id(it: &Item, entity: &str) -> Result<TenantId, StoreError> {
    TenantId::parse(req_s(it, "tid")?).ok_or_else(|| corrupt(entity, "tid"))
}

fn user_id(it: &Item, entity: &str) -> Result<UserId, StoreError> {
    UserId::parse(req_s(it, "uid")?).ok_or_else(|| corrupt(entity, "uid"))
}

pub fn user(it: &Item) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        tenant: tenant_id(it, "user")?,
        id: user_id(it, "user")?,
        email: Email::parse(req_s(it, "email")?).map_err(|_| corrupt("user", "email"))?,
        role: get_s(it, "role").and_then(Role::parse),
        status: UserStatus::parse(req_s(it, "status")?).ok_or_else(|| corrupt("user", "status"))?,
        pending_token: get_s(it, "pending_token").map(|h| TokenHash::from_stored(h.to_owned())),
        created_at: get_n(it, "created_at").unwrap_or_default(),
        invited_at: get_n(it, "invited_at"),
        pending_reset: get_s(it, "pending_reset").map(|h| TokenHash::from_stored(h.to_owned())),
        session_epoch: get_n(it, "session_epoch").unwrap_or(0),
        has_totp: it.contains_key("totp_sealed"),
        has_webauthn: !security_keys_from(get_s(it, "webauthn_keys")).is_empty(),
        has_sms: it.contains_key("phone"),
        last_login_at: get_n(it, "last_login_at"),
        idp_subject: get_s(it, "idp_subject").map(str::to_owned),
        organizations: get_s(it, "org_scope")
            .and_then(|v| serde_json::from_str(v).ok())
            .and_then(|v| crate::domain::OrgScope::parse(&v)),
    })
}

/// A person's scope as the user item keeps it (`org_scope`, JSON: `"all"` or a list of ids).
pub fn org_scope_value(scope: &crate::domain::OrgScope) -> String {
    scope.to_json().to_string()
}

pub fn credentials(it: &Item) -> Credentials {
    let sealed = |name: &str| get_s(it, name).map(|v| SealedSeed::new(v.to_owned()));
    let recovery_hashes = it
        .get("recovery_hashes")
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    Credentials {
        password_hash: get_s(it, "password_hash").map(|h| SecretString::from(h.to_owned())),
        factors: SecondFactors {
            totp: sealed("totp_sealed").map(|seed| TotpFactor {
                seed,
                last_step: get_n(it, "totp_last_step").unwrap_or(0),
            }),
            totp_pending: sealed("totp_pending_sealed"),
            security_keys: security_keys_from(get_s(it, "webauthn_keys")),
            security_keys_version: get_n(it, "webauthn_version").unwrap_or(0),
            recovery_codes_left: recovery_hashes.len(),
            recovery_hashes,
            failed_in_a_row: get_n(it, "mfa_failures")
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(0),
            alerted_at: get_n(it, "mfa_alerted_at"),
            phone: get_s(it, "phone").map(str::to_owned),
            phone_pending: sent_code(it, "phone_pending_hash", "phone_pending_expires").and_then(
                |code| {
                    Some(PendingPhone {
                        number: get_s(it, "phone_pending")?.to_owned(),
                        code,
                    })
                },
            ),
            sms_code: sent_code(it, "sms_hash", "sms_expires"),
        },
    }
}

fn sent_code(it: &Item, hash: &str, expires: &str) -> Option<SentCode> {
    Some(SentCode {
        hash: get_s(it, hash)?.to_owned(),
        expires_at: get_n(it, expires)?,
    })
}

/// Security keys are kept as one JSON array attribute, `webauthn_keys`. An entry stored
/// before keys had names (the bare passkey) reads as an unnamed key.
fn security_keys_from(raw: Option<&str>) -> SecurityKeys {
    let entries: Vec<serde_json::Value> = raw
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    SecurityKeys(
        entries
            .into_iter()
            .map(|v| {
                serde_json::from_value::<crate::domain::SecurityKey>(v.clone()).unwrap_or(
                    crate::domain::SecurityKey {
                        id: String::new(),
                        name: "Security key".into(),
                        created_at: 0,
                        last_used_at: None,
                        passkey: v,
                        discoverable: false,
                    },
                )
            })
            .collect(),
    )
}

pub fn security_keys_attr(keys: &SecurityKeys) -> String {
    serde_json::to_string(&keys.0).unwrap_or_else(|_| "[]".into())
}

/// A new, invited user.
pub fn new_user(
    tid: &TenantId,
    uid: &UserId,
    email: &Email,
    role: Option<Role>,
    invitation: &OneTimeToken,
    now: Timestamp,
) -> Item {
    let mut it = item([
        ("pk", s(keys::tenant_pk(tid))),
        ("sk", s(keys::user_sk(uid))),
        ("entity", s("user")),
        ("tid", s(tid.as_str())),
        ("uid", s(uid.as_str())),
        ("email", s(email.as_str())),
        ("status", s(UserStatus::Invited.as_str())),
        ("created_at", n(now.0)),
        ("invited_at", n(now.0)),
        ("pending_token", s(invitation.hash.as_str())),
        ("session_epoch", n(0)),
    ]);
    if let Some(r) = role {
        it.insert("role".into(), s(r.as_str()));
    }
    it
}

/// The email index entry: its `attribute_not_exists` condition makes an address unique.
pub fn email_index(email: &Email, tid: &TenantId, uid: &UserId) -> Item {
    item([
        ("pk", s(keys::email_pk(email))),
        ("sk", s(keys::EMAIL_SK)),
        ("entity", s("email")),
        ("tid", s(tid.as_str())),
        ("uid", s(uid.as_str())),
    ])
}

pub fn email_index_ids(it: &Item) -> Result<(TenantId, UserId), StoreError> {
    Ok((tenant_id(it, "email")?, user_id(it, "email")?))
}

pub fn token(t: &OneTimeToken, tid: &TenantId, uid: &UserId, now: Timestamp) -> Item {
    item([
        ("pk", s(keys::token_pk(&t.hash))),
        ("sk", s(keys::TOKEN_SK)),
        ("entity", s("token")),
        ("kind", s(t.kind.as_str())),
        ("tid", s(tid.as_str())),
        ("uid", s(uid.as_str())),
        ("created_at", n(now.0)),
        ("expires_at", n(t.expires_at.0)),
        (TTL_ATTRIBUTE, n(t.delete_after().0)),
        ("used", b(false)),
    ])
}

pub fn token_record(hash: TokenHash, it: &Item) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        hash,
        kind: TokenKind::parse(req_s(it, "kind")?).ok_or_else(|| corrupt("token", "kind"))?,
        tenant: tenant_id(it, "token")?,
        user: user_id(it, "token")?,
        expires_at: Timestamp(req_n(it, "expires_at")?),
        used: get_bool(it, "used"),
    })
}

pub fn session(r: &SessionRecord) -> Item {
    let mut it = item([
        ("pk", s(keys::session_pk(&r.hash))),
        ("sk", s(keys::SESSION_SK)),
        ("entity", s("session")),
        ("tid", s(r.tenant.as_str())),
        ("uid", s(r.user.as_str())),
        ("level", s(r.level.as_str())),
        ("created_at", n(r.created_at.0)),
        ("last_seen", n(r.last_seen.0)),
        ("expires_at", n(r.expires_at.0)),
        (TTL_ATTRIBUTE, n(r.expires_at.0)),
        ("epoch", n(r.epoch)),
        ("ip", s(&r.ip)),
        ("user_agent", s(&r.user_agent)),
        ("gsi1pk", s(keys::user_sessions_gsi_pk(&r.tenant, &r.user))),
        ("gsi1sk", s(format!("{:012}", r.created_at.0))),
    ]);
    if let Some(c) = &r.ceremony {
        it.insert("ceremony".into(), s(c));
    }
    if let Some(at) = r.proved_at {
        it.insert("proved_at".into(), n(at.0));
    }
    if !r.amr.is_empty() {
        it.insert("amr".into(), s(r.amr.join(" ")));
    }
    if let Some(org) = &r.acting {
        it.insert("acting".into(), s(org.as_str()));
    }
    it
}

pub fn session_record(hash: TokenHash, it: &Item) -> Result<SessionRecord, StoreError> {
    Ok(SessionRecord {
        hash,
        tenant: tenant_id(it, "session")?,
        user: user_id(it, "session")?,
        level: Level::parse(req_s(it, "level")?).ok_or_else(|| corrupt("session", "level"))?,
        created_at: Timestamp(req_n(it, "created_at")?),
        last_seen: Timestamp(req_n(it, "last_seen")?),
        expires_at: Timestamp(req_n(it, "expires_at")?),
        epoch: get_n(it, "epoch").unwrap_or_default(),
        ceremony: get_s(it, "ceremony").map(str::to_owned),
        proved_at: get_n(it, "proved_at").map(Timestamp),
        ip: get_s(it, "ip").unwrap_or_default().to_owned(),
        user_agent: get_s(it, "user_agent").unwrap_or_default().to_owned(),
        amr: get_s(it, "amr")
            .map(|a| a.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        acting: match get_s(it, "acting") {
            Some(a) => Some(TenantId::parse(a).ok_or_else(|| corrupt("session", "acting"))?),
            None => None,
        },
    })
}

/// A tenant item as it begins: active, listed by name, `users` seats taken.
fn tenant_item(
    tid: &TenantId,
    name: &str,
    max_users: u32,
    users: i64,
    setup_done: bool,
    now: Timestamp,
) -> Item {
    item([
        ("pk", s(keys::tenant_pk(tid))),
        ("sk", s(keys::META)),
        ("entity", s("tenant")),
        ("tid", s(tid.as_str())),
        ("name", s(name)),
        ("status", s("active")),
        ("max_users", n(i64::from(max_users))),
        ("user_count", n(users)),
        ("active_admins", n(0)),
        ("setup_done", b(setup_done)),
        ("created_at", n(now.0)),
        ("gsi1pk", s(keys::TENANTS_GSI_PK)),
        ("gsi1sk", s(keys::tenant_gsi_sk(name, tid))),
    ])
}

/// A registered tenant: its first admin (invited) takes a seat; the admin names it at setup.
pub fn new_tenant(t: &NewTenant<'_>) -> Item {
    tenant_item(&t.id, &t.name, t.max_users, 1, false, t.now)
}

/// An organization an MSP manages: named by the MSP, set up, nobody in it yet.
pub fn new_organization(org: &NewOrganization) -> Item {
    let mut it = tenant_item(&org.id, &org.name, org.max_users, 0, true, org.now);
    it.insert("organisation_name".into(), s(&org.name));
    it.insert("parent".into(), s(org.msp.as_str()));
    it
}

/// The MSP's link to an organization it manages (listed by one query of its partition).
pub fn org_link(org: &NewOrganization) -> Item {
    item([
        ("pk", s(keys::tenant_pk(&org.msp))),
        ("sk", s(keys::org_link_sk(&org.id))),
        ("entity", s("org_link")),
        ("oid", s(org.id.as_str())),
    ])
}

/// The organization a link names.
pub fn org_link_id(it: &Item) -> Result<TenantId, StoreError> {
    TenantId::parse(req_s(it, "oid")?).ok_or_else(|| corrupt("organization link", "oid"))
}

pub fn tenant(it: &Item) -> Result<TenantRecord, StoreError> {
    let count = |name: &str| -> Result<u32, StoreError> {
        u32::try_from(req_n(it, name)?).map_err(|_| corrupt("tenant", name))
    };
    Ok(TenantRecord {
        id: tenant_id(it, "tenant")?,
        name: req_s(it, "name")?.to_owned(),
        status: get_s(it, "status").unwrap_or("active").to_owned(),
        max_users: count("max_users")?,
        user_count: count("user_count")?,
        setup_done: get_bool(it, "setup_done"),
        organisation_name: get_s(it, "organisation_name").map(str::to_owned),
        created_at: Timestamp(get_n(it, "created_at").unwrap_or_default()).to_rfc3339(),
        entitlements: get_s(it, "entitlements").and_then(|e| serde_json::from_str(e).ok()),
        email_pin: get_bool(it, "email_pin"),
        passkey_sign_in: !get_bool(it, "passkeys_off"),
        sms_mfa: get_bool(it, "sms_mfa"),
        parent: get_s(it, "parent").and_then(TenantId::parse),
        max_organizations: get_n(it, "max_organizations").and_then(|v| u32::try_from(v).ok()),
        org_count: get_n(it, "org_count")
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(0),
    })
}

/// Milliseconds since the epoch, strictly increasing within this process, so that events
/// written together (or within one millisecond) keep the order they were made in.
fn now_millis() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = wall.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// An audit event under partition `pk`, stamped now: the sort key in milliseconds (so that
/// events of one second still read in order), `at` in seconds like every other time.
pub fn audit(pk: String, e: &AuditEvent, rng: &mut impl RngCore) -> Item {
    let mut id = [0u8; 6];
    rng.fill_bytes(&mut id);
    let millis = now_millis();
    let mut it = item([
        ("pk", s(pk)),
        ("sk", s(keys::audit_sk(millis, &hex::encode(id)))),
        ("entity", s("audit")),
        ("at", n(i64::try_from(millis / 1000).unwrap_or(i64::MAX))),
        ("at_ms", n(i64::try_from(millis).unwrap_or(i64::MAX))),
        ("actor", s(&e.actor)),
        ("action", s(e.action.as_str())),
        ("source_ip", s(&e.source_ip)),
        ("outcome", s(e.outcome)),
    ]);
    if let Some(t) = &e.target {
        it.insert("target".into(), s(t));
    }
    if let Some(a) = &e.actor_email {
        it.insert("actor_email".into(), s(a));
    }
    if let Some(t) = &e.target_email {
        it.insert("target_email".into(), s(t));
    }
    if let Some(d) = &e.detail {
        it.insert("detail".into(), s(d));
    }
    if let Some(v) = &e.via {
        it.insert("via".into(), s(v));
    }
    it
}

pub fn sso_state(st: &SsoState) -> Item {
    let mut it = item([
        ("pk", s(keys::oidc_pk(&st.state_hash))),
        ("sk", s(keys::OIDC_SK)),
        ("entity", s("oidc_state")),
        ("tid", s(st.tenant.as_str())),
        ("issuer", s(&st.issuer)),
        ("callback_ref", s(&st.callback_ref)),
        ("nonce", s(&st.nonce)),
        ("challenge", s(&st.challenge)),
        ("created_at", n(st.created_at.0)),
        (
            "expires_at",
            n(st.created_at.0 + crate::domain::sso::STATE_LIFETIME_SECS),
        ),
        (
            TTL_ATTRIBUTE,
            n(st.created_at.0 + crate::domain::sso::STATE_LIFETIME_SECS),
        ),
    ]);
    if let SsoPurpose::Test { admin } = &st.purpose {
        it.insert("test_by".into(), s(admin.as_str()));
    }
    it
}

pub fn sso_state_record(state_hash: &str, it: &Item) -> Result<SsoState, StoreError> {
    let purpose = match get_s(it, "test_by") {
        Some(uid) => SsoPurpose::Test {
            admin: UserId::parse(uid).ok_or_else(|| corrupt("oidc", "test_by"))?,
        },
        None => SsoPurpose::SignIn,
    };
    Ok(SsoState {
        state_hash: state_hash.to_owned(),
        tenant: tenant_id(it, "oidc")?,
        purpose,
        issuer: req_s(it, "issuer")?.to_owned(),
        callback_ref: get_s(it, "callback_ref").unwrap_or_default().to_owned(),
        nonce: req_s(it, "nonce")?.to_owned(),
        challenge: req_s(it, "challenge")?.to_owned(),
        created_at: Timestamp(req_n(it, "created_at")?),
    })
}

pub fn tenant_sso(it: &Item) -> Result<(TenantSso, i64), StoreError> {
    let sso = serde_json::from_str(req_s(it, "config")?).map_err(|_| corrupt("sso", "config"))?;
    Ok((sso, get_n(it, "version").unwrap_or(0)))
}

pub fn tenant_sso_item(tid: &TenantId, sso: &TenantSso, version: i64) -> Item {
    item([
        ("pk", s(keys::tenant_pk(tid))),
        ("sk", s(keys::SSO_SK)),
        ("entity", s("sso")),
        ("config", s(serde_json::to_string(sso).unwrap_or_default())),
        ("version", n(version)),
    ])
}

/// The verified owner of a domain.
pub fn domain_route(domain: &str, tid: &TenantId, by: VerifiedBy, at: Timestamp) -> Item {
    item([
        ("pk", s(keys::domain_pk(domain))),
        ("sk", s(keys::DOMAIN_SK)),
        ("entity", s("domain")),
        ("tid", s(tid.as_str())),
        ("verified_by", s(by.as_str())),
        ("verified_at", n(at.0)),
    ])
}

/// The tenant that verified a domain; `None` for a route from before verification (an
/// address there is routed nowhere until a tenant proves the domain).
pub fn verified_owner(it: &Item) -> Result<Option<TenantId>, StoreError> {
    if get_s(it, "verified_by").is_none() {
        return Ok(None);
    }
    tenant_id(it, "domain").map(Some)
}

pub fn domain_claim(tid: &TenantId, claim: &DomainClaim) -> Item {
    let mut it = item([
        ("pk", s(keys::tenant_pk(tid))),
        ("sk", s(keys::domain_claim_sk(&claim.domain))),
        ("entity", s("domain_claim")),
        ("domain", s(claim.domain.as_str())),
        ("txt_value", s(claim.txt_value.as_str())),
        ("created_at", n(claim.created_at.0)),
    ]);
    if let Some((by, at)) = claim.verified {
        it.insert("verified_by".into(), s(by.as_str()));
        it.insert("verified_at".into(), n(at.0));
    }
    it
}

pub fn domain_claim_record(it: &Item) -> Result<DomainClaim, StoreError> {
    let verified = match (
        get_s(it, "verified_by").and_then(VerifiedBy::parse),
        get_n(it, "verified_at"),
    ) {
        (Some(by), Some(at)) => Some((by, Timestamp(at))),
        _ => None,
    };
    Ok(DomainClaim {
        domain: req_s(it, "domain")?.to_owned(),
        txt_value: req_s(it, "txt_value")?.to_owned(),
        created_at: Timestamp(get_n(it, "created_at").unwrap_or_default()),
        verified,
    })
}

pub fn identity_link(issuer: &str, sub: &str, user: &UserRecord) -> Item {
    item([
        ("pk", s(keys::idp_pk(issuer, sub))),
        ("sk", s(keys::IDP_SK)),
        ("entity", s("identity")),
        ("tid", s(user.tenant.as_str())),
        ("uid", s(user.id.as_str())),
    ])
}

pub fn linked_ids(it: &Item) -> Result<(TenantId, UserId), StoreError> {
    Ok((tenant_id(it, "identity")?, user_id(it, "identity")?))
}

pub fn platform(it: &Item) -> Result<crate::domain::PlatformConfig, StoreError> {
    let raw = super::attr::req_s(it, "config")?;
    serde_json::from_str(raw).map_err(|_| StoreError::Corrupt("platform item: config".into()))
}
