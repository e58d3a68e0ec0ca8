//! How every item is addressed: partition and sort keys, and the GSI partition that lists
//! tenants. The item table in `store/mod.rs` lists the same formats.

use crate::domain::{Email, TenantId, TokenHash, UserId};

pub const META: &str = "META";
pub const EMAIL_SK: &str = "EMAIL";
pub const TOKEN_SK: &str = "TOKEN";
pub const SESSION_SK: &str = "SESSION";
pub const THROTTLE_SK: &str = "THROTTLE";
pub const PIN_SK: &str = "PIN";
pub const SSO_SK: &str = "SSO";
pub const PLATFORM_SK: &str = "PLATFORM";
pub const DOMAIN_SK: &str = "DOMAIN";
pub const IDP_SK: &str = "IDP";
pub const OIDC_SK: &str = "OIDC";
pub const DEVICE_SK: &str = "DEVICE";
/// GSI partition that lists every tenant, sorted by name.
pub const TENANTS_GSI_PK: &str = "TENANTS";
/// Sort-key prefixes under a tenant.
pub const USER_PREFIX: &str = "USER#";
pub const AUDIT_PREFIX: &str = "AUDIT#";
pub const DOMAIN_PREFIX: &str = "DOMAIN#";
/// The partition for failed sign-ins of addresses nobody has.
pub const UNREGISTERED_AUDIT_PK: &str = "AUDIT#unregistered";

pub fn tenant_pk(tid: &TenantId) -> String {
    format!("TENANT#{tid}")
}

/// `gsi1sk` of a tenant in the `TENANTS` partition: listed by name.
pub fn tenant_gsi_sk(name: &str, tid: &TenantId) -> String {
    format!("{}#{tid}", name.to_lowercase())
}

/// `ORG#` under an MSP's partition: the organizations it manages.
pub const ORG_PREFIX: &str = "ORG#";

/// `ORG#<oid>`: an MSP's link to an organization it manages.
pub fn org_link_sk(oid: &TenantId) -> String {
    format!("{ORG_PREFIX}{oid}")
}

pub fn user_sk(uid: &UserId) -> String {
    format!("{USER_PREFIX}{uid}")
}

pub fn email_pk(email: &Email) -> String {
    format!("EMAIL#{email}")
}

pub fn token_pk(hash: &TokenHash) -> String {
    format!("TOKEN#{}", hash.as_str())
}

pub fn session_pk(hash: &TokenHash) -> String {
    format!("SESSION#{}", hash.as_str())
}

/// The session's hash back from its key.
pub fn session_hash(pk: &str) -> Option<TokenHash> {
    pk.strip_prefix("SESSION#")
        .map(|h| TokenHash::from_stored(h.to_owned()))
}

/// `gsi1pk` of a user's sessions and devices: the account page lists both through the GSI.
pub fn user_sessions_gsi_pk(tid: &TenantId, uid: &UserId) -> String {
    format!("SESSIONS#{}#{}", tid.as_str(), uid.as_str())
}

/// `AUDIT#<13-digit ms>#<random>`: sorts by time, unique within the millisecond.
pub fn audit_sk(millis: u64, id: &str) -> String {
    format!("{AUDIT_PREFIX}{millis:013}#{id}")
}

/// `DOMAIN#<domain>`: the one tenant that verified an email domain (unique across tenants);
/// an address there signs in through that tenant's provider when its configuration names it.
pub fn domain_pk(domain: &str) -> String {
    format!("{DOMAIN_PREFIX}{domain}")
}

/// `DOMAIN#<domain>` under a tenant: its claim on the domain (the challenge, and whether it
/// was verified).
pub fn domain_claim_sk(domain: &str) -> String {
    format!("{DOMAIN_PREFIX}{domain}")
}

/// `IDP#<issuer>#<sub>`: the user an external identity is linked to.
pub fn idp_pk(issuer: &str, sub: &str) -> String {
    format!("IDP#{issuer}#{sub}")
}

/// The `IDP#` key of a user's linked identity, from the `<issuer>#<sub>` the user item keeps.
pub fn idp_pk_of_subject(subject: &str) -> String {
    format!("IDP#{subject}")
}

/// `OIDC#<sha256 of state>`: one sign-in at an identity provider, in flight.
pub fn oidc_pk(state_hash: &str) -> String {
    format!("OIDC#{state_hash}")
}

/// `THROTTLE#<scope>#<sha256 of the key>`.
pub fn throttle_pk(scope: &str, digest: &str) -> String {
    format!("THROTTLE#{scope}#{digest}")
}
