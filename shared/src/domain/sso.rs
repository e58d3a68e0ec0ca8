//! Single sign-on per tenant: how a tenant's people sign in (Porter's password + MFA, or an
//! OpenID provider), the provider as its discovery document describes it, which email
//! domains route to it, and the short-lived state of one sign-in through it.

use super::ids::{TenantId, UserId};
use super::time::Timestamp;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a sign-in may take at the identity provider.
pub const STATE_LIFETIME_SECS: i64 = 10 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SsoMethod {
    /// Password and Porter's own second factor (the default).
    Porter,
    /// Any OpenID Connect provider, by its discovery URL.
    Oidc,
    /// Microsoft Entra ID, by the directory (tenant) id.
    EntraId,
}

impl SsoMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Porter => "porter",
            Self::Oidc => "oidc",
            Self::EntraId => "entra_id",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "porter" => Some(Self::Porter),
            "oidc" => Some(Self::Oidc),
            "entra_id" => Some(Self::EntraId),
            _ => None,
        }
    }
}

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    ClientSecretBasic,
    ClientSecretPost,
}

/// What Porter needs of a provider, taken from its validated discovery document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub client_auth: ClientAuth,
    /// The asymmetric ID-token algorithms the provider signs with; nothing else is accepted.
    pub algorithms: Vec<String>,
    /// The provider names itself (`iss`) in every authorization response (RFC 9207): then a
    /// response without it did not come from this provider (a mix-up) and is refused.
    #[serde(default)]
    pub iss_parameter: bool,
}

/// One identity-provider configuration of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpConfig {
    pub method: SsoMethod,
    pub client_id: String,
    /// OIDC: the discovery URL as the admin gave it. Entra ID: the one derived from the directory.
    pub discovery_url: String,
    /// Entra ID only: the directory (tenant) id, which the token's `tid` must equal.
    pub directory_id: Option<String>,
    pub domains: Vec<String>,
    /// Porter's own second factor after the provider (default: the provider is responsible).
    pub mfa_after_sso: bool,
    pub provider: Provider,
    /// Which client secret in Secrets Manager belongs to this configuration.
    pub secret_ref: String,
}

/// A tenant's single sign-on: the configuration sign-in uses, and a newer one awaiting its
/// test sign-in. Sign-in never uses a configuration that has not been proven to work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSso {
    pub active: Option<IdpConfig>,
    pub pending: Option<IdpConfig>,
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<String>,
}

impl TenantSso {
    /// The provider an address of `domain` signs in through, if any.
    pub fn route(&self, domain: &str) -> Option<&IdpConfig> {
        self.active
            .as_ref()
            .filter(|c| c.domains.iter().any(|d| d == domain))
    }

    /// Back to passwords, at once (an admin's choice): nothing active, nothing pending.
    pub fn disabled(&self, by: &str, now: Timestamp) -> Self {
        Self::stamped(None, None, by, now)
    }

    /// A new configuration awaiting its test sign-in; sign-in keeps the active one meanwhile.
    pub fn proposed(&self, config: IdpConfig, by: &str, now: Timestamp) -> Self {
        Self::stamped(self.active.clone(), Some(config), by, now)
    }

    /// The pending configuration, proven by a test sign-in, becomes the one sign-in uses;
    /// `None` when nothing is pending (replaced or disabled meanwhile).
    pub fn tested(&self, by: &str, now: Timestamp) -> Option<Self> {
        let pending = self.pending.clone()?;
        Some(Self::stamped(Some(pending), None, by, now))
    }

    /// What the operator decided, active at once (or nothing: break-glass).
    pub fn set_by_operator(active: Option<IdpConfig>, now: Timestamp) -> Self {
        Self::stamped(active, None, "operator", now)
    }

    fn stamped(
        active: Option<IdpConfig>,
        pending: Option<IdpConfig>,
        by: &str,
        now: Timestamp,
    ) -> Self {
        Self {
            active,
            pending,
            updated_at: Some(now),
            updated_by: Some(by.to_owned()),
        }
    }

    /// Every domain either configuration claims (the ones the tenant holds `DOMAIN#` items for).
    pub fn claimed_domains(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .active
            .iter()
            .chain(self.pending.iter())
            .flat_map(|c| c.domains.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Why a sign-in through the provider was started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SsoPurpose {
    SignIn,
    /// An admin proving a pending configuration; only they may complete it.
    Test {
        admin: UserId,
    },
}

/// One sign-in in flight, stored under the hash of its `state` for at most ten minutes. The
/// PKCE verifier is not stored: it lives in the browser's cookie, and this record keeps its
/// S256 challenge, which is what binds the sign-in to that browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoState {
    pub state_hash: String,
    pub tenant: TenantId,
    pub purpose: SsoPurpose,
    pub issuer: String,
    pub nonce: String,
    pub challenge: String,
    pub created_at: Timestamp,
}

impl SsoState {
    pub fn is_fresh(&self, now: Timestamp) -> bool {
        now.0 - self.created_at.0 < STATE_LIFETIME_SECS && now >= self.created_at
    }
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The hash a `state` value is stored under.
pub fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Consumer mail services: a domain anyone can have an address at routes nobody's sign-in.
pub const PUBLIC_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "web.de",
    "mail.com",
    "yandex.com",
    "zoho.com",
];

/// Whether `name` is a host name: dot-separated labels of letters, digits and inner hyphens
/// (RFC 1123), 253 characters at most.
pub fn is_host_name(name: &str) -> bool {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    !name.is_empty() && name.len() <= 253 && name.split('.').all(label_ok)
}

/// A domain as typed: lower-cased, trimmed, shaped like a host name with a dot.
pub fn parse_domain(raw: &str) -> Option<String> {
    let d = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    (d.contains('.') && is_host_name(&d)).then_some(d)
}

pub fn is_public_mail_domain(domain: &str) -> bool {
    PUBLIC_MAIL_DOMAINS.contains(&domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_rfc_7636s_example() {
        // RFC 7636, appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn domains_are_normalised_and_junk_is_refused() {
        assert_eq!(parse_domain(" Acme.COM. "), Some("acme.com".into()));
        for junk in [
            "",
            "acme",
            "a..com",
            "-a.com",
            "a b.com",
            "acme.com/x",
            "ann@acme.com",
        ] {
            assert_eq!(parse_domain(junk), None, "{junk}");
        }
        assert!(is_public_mail_domain("gmail.com"));
        assert!(!is_public_mail_domain("acme.com"));
    }

    #[test]
    fn only_the_active_configuration_routes_and_a_state_lives_ten_minutes() {
        let now = Timestamp(1_800_000_000);
        let config = |domains: &[&str]| IdpConfig {
            method: SsoMethod::Oidc,
            client_id: "c".into(),
            discovery_url: "https://idp.test/.well-known/openid-configuration".into(),
            directory_id: None,
            domains: domains.iter().map(|d| (*d).to_owned()).collect(),
            mfa_after_sso: false,
            provider: Provider {
                issuer: "https://idp.test".into(),
                authorization_endpoint: "https://idp.test/auth".into(),
                token_endpoint: "https://idp.test/token".into(),
                jwks_uri: "https://idp.test/jwks".into(),
                client_auth: ClientAuth::ClientSecretBasic,
                algorithms: vec!["RS256".into()],
                iss_parameter: false,
            },
            secret_ref: "r".into(),
        };
        let sso = TenantSso {
            active: Some(config(&["acme.com"])),
            pending: Some(config(&["acme.com", "acme.org"])),
            ..TenantSso::default()
        };
        assert!(sso.route("acme.com").is_some());
        assert!(sso.route("acme.org").is_none(), "pending is not routed yet");
        assert_eq!(sso.claimed_domains(), vec!["acme.com", "acme.org"]);
        let state = SsoState {
            state_hash: "h".into(),
            tenant: TenantId::nobody(),
            purpose: SsoPurpose::SignIn,
            issuer: "https://idp.test".into(),
            nonce: "n".into(),
            challenge: "c".into(),
            created_at: now,
        };
        assert!(state.is_fresh(now.plus_secs(599)));
        assert!(!state.is_fresh(now.plus_secs(600)));
    }
}
