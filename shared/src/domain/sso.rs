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

/// Whether Porter's own second factor follows a sign-in at the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorPolicy {
    /// Always (the default): the provider proves the first factor only.
    Always,
    /// Only when the ID token's `amr` does not show more than one factor.
    UnlessProviderMfa,
    /// Never: the admin's explicit choice, shown with a warning and audited.
    Never,
}

impl SecondFactorPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::UnlessProviderMfa => "unless_provider_mfa",
            Self::Never => "never",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "always" => Some(Self::Always),
            "unless_provider_mfa" => Some(Self::UnlessProviderMfa),
            "never" => Some(Self::Never),
            _ => None,
        }
    }

    /// The older switch: `true` asked for Porter's factor always, `false` left it to the
    /// provider, which now means "unless the provider proved more than one factor".
    pub fn from_mfa_after_sso(on: bool) -> Self {
        if on {
            Self::Always
        } else {
            Self::UnlessProviderMfa
        }
    }

    /// Whether Porter's factor follows a sign-in whose ID token says `amr`.
    pub fn asks_porter_factor(self, amr: &[String]) -> bool {
        match self {
            Self::Always => true,
            Self::UnlessProviderMfa => !amr_shows_several_factors(amr),
            Self::Never => false,
        }
    }
}

/// RFC 8176's method references, by the kind of factor each proves.
#[derive(PartialEq, Eq, Clone, Copy)]
enum FactorKind {
    Knowledge,
    Possession,
    Inherence,
}

fn factor_kind(amr: &str) -> Option<FactorKind> {
    use FactorKind::*;
    match amr {
        "pwd" | "pin" | "kba" => Some(Knowledge),
        "hwk" | "swk" | "otp" | "sms" | "tel" | "sc" | "pop" | "rsa" => Some(Possession),
        "fpt" | "face" | "iris" | "retina" | "vbm" | "bio" => Some(Inherence),
        _ => None,
    }
}

/// Whether an ID token's `amr` shows more than one factor: `mfa` (or Entra ID's `ngcmfa`), or
/// methods of two different kinds (a key with its PIN, a password with a one-time code).
/// Two methods of one kind (`pwd` and `kba`) are one factor; `fed`, `user`, `wia` and unknown
/// values prove nothing by themselves.
pub fn amr_shows_several_factors(amr: &[String]) -> bool {
    if amr.iter().any(|m| m == "mfa" || m == "ngcmfa") {
        return true;
    }
    let mut kinds = amr.iter().filter_map(|m| factor_kind(m));
    kinds
        .next()
        .is_some_and(|first| kinds.any(|other| other != first))
}

/// One identity-provider configuration of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StoredIdpConfig")]
pub struct IdpConfig {
    pub method: SsoMethod,
    pub client_id: String,
    /// OIDC: the discovery URL as the admin gave it. Entra ID: the one derived from the directory.
    pub discovery_url: String,
    /// Entra ID only: the directory (tenant) id, which the token's `tid` must equal.
    pub directory_id: Option<String>,
    /// Verified domains of the tenant, routed to this provider once it is active.
    pub domains: Vec<String>,
    pub second_factor: SecondFactorPolicy,
    pub provider: Provider,
    /// Which client secret in Secrets Manager belongs to this configuration.
    pub secret_ref: String,
    /// The last segment of this configuration's redirect URI (`/api/login/callback/{ref}`):
    /// random, so that an answer meant for another provider arrives at another path.
    pub callback_ref: String,
}

impl IdpConfig {
    /// The path of this configuration's redirect URI.
    pub fn callback_path(&self) -> String {
        format!("{CALLBACK_PREFIX}/{}", self.callback_ref)
    }

    /// Whether `domain` is one of this configuration's (verified) domains.
    pub fn names_domain(&self, domain: &str) -> bool {
        self.domains.iter().any(|d| d == domain)
    }
}

/// Where provider answers arrive: `/api/login/callback/{ref}`, one path per configuration.
pub const CALLBACK_PREFIX: &str = "/api/login/callback";

/// A configuration as stored, from before `second_factor` and `callback_ref` too.
#[derive(Deserialize)]
struct StoredIdpConfig {
    method: SsoMethod,
    client_id: String,
    discovery_url: String,
    directory_id: Option<String>,
    domains: Vec<String>,
    second_factor: Option<SecondFactorPolicy>,
    #[serde(default)]
    mfa_after_sso: bool,
    provider: Provider,
    secret_ref: String,
    #[serde(default)]
    callback_ref: String,
}

impl From<StoredIdpConfig> for IdpConfig {
    fn from(s: StoredIdpConfig) -> Self {
        Self {
            second_factor: s
                .second_factor
                .unwrap_or_else(|| SecondFactorPolicy::from_mfa_after_sso(s.mfa_after_sso)),
            method: s.method,
            client_id: s.client_id,
            discovery_url: s.discovery_url,
            directory_id: s.directory_id,
            domains: s.domains,
            provider: s.provider,
            secret_ref: s.secret_ref,
            callback_ref: s.callback_ref,
        }
    }
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
        self.active.as_ref().filter(|c| c.names_domain(domain))
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

    /// Whether either configuration names `domain` (then it cannot be released).
    pub fn uses_domain(&self, domain: &str) -> bool {
        self.active
            .iter()
            .chain(self.pending.iter())
            .any(|c| c.names_domain(domain))
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
    /// The configuration's redirect URI segment: the answer must arrive there.
    pub callback_ref: String,
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

/// How a tenant proved a domain is its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifiedBy {
    /// A TXT record at `_porter-challenge.<domain>` held the tenant's value.
    Dns,
    /// The operator vouched for it (porterctl).
    Operator,
}

impl VerifiedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dns => "dns",
            Self::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "dns" => Some(Self::Dns),
            "operator" => Some(Self::Operator),
            _ => None,
        }
    }
}

/// A tenant's claim on an email domain: a challenge to publish, then (once proved) the
/// verification. Any number of tenants may hold a challenge for one domain; only one can
/// verify it. The TXT value is not a secret: it is meant to be published, and it proves
/// something only where the tenant's own DNS holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainClaim {
    pub domain: String,
    pub txt_value: String,
    pub created_at: Timestamp,
    pub verified: Option<(VerifiedBy, Timestamp)>,
}

/// Where the challenge of `domain` is published.
pub fn txt_name(domain: &str) -> String {
    format!("_porter-challenge.{domain}")
}

/// A fresh challenge: 256 random bits.
pub fn new_txt_value(rng: &mut impl rand::RngCore) -> String {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    format!("porter-verification={}", URL_SAFE_NO_PAD.encode(bytes))
}

impl DomainClaim {
    pub fn new(domain: &str, rng: &mut impl rand::RngCore, now: Timestamp) -> Self {
        Self {
            domain: domain.to_owned(),
            txt_value: new_txt_value(rng),
            created_at: now,
            verified: None,
        }
    }

    pub fn is_verified(&self) -> bool {
        self.verified.is_some()
    }

    /// Whether TXT records found at [`txt_name`] prove the claim: one of them is the value.
    pub fn proved_by(&self, records: &[String]) -> bool {
        records.iter().any(|r| r.trim() == self.txt_value)
    }
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
            second_factor: SecondFactorPolicy::Always,
            callback_ref: "ref".into(),
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
        assert!(sso.uses_domain("acme.org"));
        assert!(!sso.uses_domain("acme.net"));
        let state = SsoState {
            state_hash: "h".into(),
            tenant: TenantId::nobody(),
            purpose: SsoPurpose::SignIn,
            issuer: "https://idp.test".into(),
            callback_ref: "ref".into(),
            nonce: "n".into(),
            challenge: "c".into(),
            created_at: now,
        };
        assert!(state.is_fresh(now.plus_secs(599)));
        assert!(!state.is_fresh(now.plus_secs(600)));
    }

    fn amr(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn the_provider_proves_several_factors_only_with_two_kinds_or_mfa() {
        for several in [
            &["mfa"][..],
            &["pwd", "otp"],
            &["hwk", "pin"],
            &["swk", "fpt"],
            &["pwd", "sms"],
            &["ngcmfa"],
        ] {
            assert!(amr_shows_several_factors(&amr(several)), "{several:?}");
        }
        for one in [
            &[][..],
            &["pwd"],
            &["pwd", "kba"],
            &["hwk"],
            &["fed"],
            &["pwd", "fed", "wia"],
            &["otp", "sms"],
        ] {
            assert!(!amr_shows_several_factors(&amr(one)), "{one:?}");
        }
    }

    #[test]
    fn each_policy_decides_porters_factor_and_the_old_switch_maps_to_one() {
        let weak = amr(&["pwd"]);
        let strong = amr(&["pwd", "mfa"]);
        assert!(SecondFactorPolicy::Always.asks_porter_factor(&strong));
        assert!(SecondFactorPolicy::UnlessProviderMfa.asks_porter_factor(&weak));
        assert!(!SecondFactorPolicy::UnlessProviderMfa.asks_porter_factor(&strong));
        assert!(!SecondFactorPolicy::Never.asks_porter_factor(&weak));
        assert_eq!(
            SecondFactorPolicy::from_mfa_after_sso(true),
            SecondFactorPolicy::Always
        );
        assert_eq!(
            SecondFactorPolicy::from_mfa_after_sso(false),
            SecondFactorPolicy::UnlessProviderMfa
        );
    }

    #[test]
    fn a_stored_configuration_from_before_the_policy_keeps_its_meaning() {
        let old = r#"{"method":"oidc","client_id":"c","discovery_url":"u","directory_id":null,
            "domains":["acme.com"],"mfa_after_sso":true,"provider":{"issuer":"i",
            "authorization_endpoint":"a","token_endpoint":"t","jwks_uri":"j",
            "client_auth":"client_secret_basic","algorithms":["RS256"]},"secret_ref":"r"}"#;
        let config: IdpConfig = serde_json::from_str(old).unwrap();
        assert_eq!(config.second_factor, SecondFactorPolicy::Always);
        assert_eq!(config.callback_ref, "");
        let again: IdpConfig =
            serde_json::from_str(&serde_json::to_string(&config).unwrap()).unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn a_challenge_is_proved_only_by_its_own_value() {
        let mut rng = rand::rngs::OsRng;
        let claim = DomainClaim::new("acme.com", &mut rng, Timestamp(1));
        assert!(claim.txt_value.starts_with("porter-verification="));
        // 256 bits, base64url: 43 characters after the prefix.
        assert_eq!(claim.txt_value.len(), "porter-verification=".len() + 43);
        let other = DomainClaim::new("acme.com", &mut rng, Timestamp(1));
        assert_ne!(claim.txt_value, other.txt_value);
        assert!(claim.proved_by(&["v=spf1 -all".into(), claim.txt_value.clone()]));
        assert!(!claim.proved_by(std::slice::from_ref(&other.txt_value)));
        assert!(!claim.proved_by(&[]));
        assert_eq!(txt_name("acme.com"), "_porter-challenge.acme.com");
    }
}
