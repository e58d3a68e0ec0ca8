//! Key builders: the one place that knows how items are addressed.

use crate::domain::{Email, TenantId, TokenHash, UserId};

pub const META: &str = "META";
pub const EMAIL_SK: &str = "EMAIL";
pub const TOKEN_SK: &str = "TOKEN";
/// GSI partition that lists every tenant, sorted by name.
pub const TENANTS_GSI_PK: &str = "TENANTS";

pub fn tenant_pk(tid: &TenantId) -> String {
    format!("TENANT#{tid}")
}

pub fn user_sk(uid: &UserId) -> String {
    format!("USER#{uid}")
}

pub fn email_pk(email: &Email) -> String {
    format!("EMAIL#{email}")
}

pub fn token_pk(hash: &TokenHash) -> String {
    format!("TOKEN#{}", hash.as_str())
}
