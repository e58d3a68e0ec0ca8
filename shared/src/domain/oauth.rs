//! Porter as an OpenID provider for the vendor's own apps (first-party clients): what a client
//! is, what an authorization request may ask, the code, the grant it starts and the refresh
//! tokens of that grant, and the claims of an ID token. Pure: the clock and the randomness come
//! in; `functions/oauth2` does the I/O and `store/oauth.rs` keeps the records.
//!
//! Only hashes of secrets are kept: a client secret, a code and a refresh token are 256 random
//! bits (64 hex), stored as their SHA-256.

use super::ids::{ClientId, GrantId, TenantId, UserId};
use super::session::{SessionOwner, SessionRecord};
use super::tenant::TenantRecord;
use super::time::Timestamp;
use super::token::{random_secret, TokenHash};
use super::user::UserRecord;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// How long a code may wait for its exchange.
pub const CODE_SECS: i64 = 60;
/// How long an ID token is good for (it proves a sign-in; the app keeps its own session).
pub const ID_TOKEN_SECS: i64 = 300;
/// How long a spent code is kept, so that a replay can still revoke what it issued: as long
/// as a session (and so anything issued from it) can live.
pub const SPENT_CODE_KEPT_SECS: i64 = super::session::ABSOLUTE_SECS;

/// The scopes Porter knows; others in a request are ignored (OpenID Connect Core §3.1.2.1).
pub const SCOPES: [&str; 4] = ["openid", "email", "profile", "offline_access"];

/// The claims an ID token or userinfo may carry.
pub const CLAIMS: [&str; 17] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "sid",
    "azp",
    "email",
    "email_verified",
    "preferred_username",
    "tid",
    "org_name",
    "role",
    "msp",
];

/// A registered app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub id: ClientId,
    /// Shown on the sign-in page: "Sign in to continue to <name>".
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// `None` for a public client (a browser or mobile app: no secret, PKCE required).
    pub secret_hash: Option<TokenHash>,
    pub created_at: Timestamp,
}

impl ClientRecord {
    pub fn is_public(&self) -> bool {
        self.secret_hash.is_none()
    }

    /// Exact, character for character (RFC 9700 §4.1.3): no prefix, no extra query.
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri)
    }

    pub fn returns_after_logout_to(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris.iter().any(|r| r == uri)
    }

    /// Whether `presented` is this confidential client's secret.
    pub fn secret_is(&self, presented: &str) -> bool {
        match (&self.secret_hash, TokenHash::of_presented(presented)) {
            (Some(stored), Some(given)) => stored == &given,
            _ => false,
        }
    }
}

/// A new client secret: shown once, stored as its hash.
pub fn new_secret(rng: &mut impl RngCore) -> (SecretString, TokenHash) {
    let raw = random_secret(rng);
    let hash = TokenHash::digest(&raw);
    (SecretString::from(raw), hash)
}

/// A new code or refresh token: the value for the client, the hash for the table.
pub fn new_token(rng: &mut impl RngCore) -> (String, TokenHash) {
    let raw = random_secret(rng);
    let hash = TokenHash::digest(&raw);
    (raw, hash)
}

/// A redirect URI an operator may register: absolute, no fragment, and https unless it is a
/// loopback address (a developer's app, and `make dev`'s demo).
pub fn check_redirect_uri(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("{raw} is not a URL: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!(
            "{raw} has a fragment (#...); redirect URIs may not"
        ));
    }
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(format!("{raw} must use https (http only on loopback)")),
    }
    if raw.chars().any(char::is_whitespace) {
        return Err(format!("{raw} contains spaces"));
    }
    Ok(raw.to_owned())
}

/// Why an authorization request is refused before Porter may answer the client: the
/// browser gets a page, never a redirect to an address nobody vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsafe {
    UnknownClient,
    RedirectUri,
    Repeated(String),
}

/// Why a well-addressed authorization request is refused: sent back to the client
/// (`error`, `error_description`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub error: &'static str,
    pub description: &'static str,
}

fn refused(error: &'static str, description: &'static str) -> Refused {
    Refused { error, description }
}

/// The parameters of `/oauth2/authorize` (a query), each at most once (RFC 6749 §3.1).
pub fn single_params(query: &str) -> Result<BTreeMap<String, String>, Unsafe> {
    let mut params = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if params.insert(k.to_string(), v.into_owned()).is_some() {
            return Err(Unsafe::Repeated(k.into_owned()));
        }
    }
    Ok(params)
}

/// What `prompt` asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    Default,
    /// Never show a page: answer `login_required` without a session.
    None,
    /// Sign in again, even with a session.
    Login,
}

/// An authorization request whose client and redirect URI hold (they were checked against
/// the client), and whose other parameters were parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRequest {
    pub client: ClientId,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The known scopes asked for, `openid` first.
    pub scope: Vec<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// Set by Porter itself when it sends the browser to sign in again (`prompt=login`,
    /// `max_age`): the sign-in must be at least this recent.
    pub login_after: Option<i64>,
}

impl AuthorizeRequest {
    /// The request's client id and redirect URI as given (to look the client up).
    pub fn addressed(params: &BTreeMap<String, String>) -> Result<(ClientId, String), Unsafe> {
        let client = params
            .get("client_id")
            .and_then(|c| ClientId::parse(c))
            .ok_or(Unsafe::UnknownClient)?;
        let uri = params.get("redirect_uri").ok_or(Unsafe::RedirectUri)?;
        Ok((client, uri.clone()))
    }

    /// Parses the rest once `client` was found and the redirect URI is one of its own.
    pub fn parse(
        client: &ClientRecord,
        redirect_uri: String,
        params: &BTreeMap<String, String>,
    ) -> Result<Self, Refused> {
        let get = |k: &str| params.get(k).filter(|v| !v.is_empty()).cloned();
        match get("response_type").as_deref() {
            Some("code") => {}
            Some(_) => {
                return Err(refused(
                    "unsupported_response_type",
                    "Only the authorization code flow (response_type=code) is supported.",
                ))
            }
            None => return Err(refused("invalid_request", "response_type is missing.")),
        }
        if params.contains_key("request") || params.contains_key("request_uri") {
            return Err(refused(
                "request_not_supported",
                "Request objects are not supported.",
            ));
        }
        let asked: Vec<&str> = params
            .get("scope")
            .map(|s| s.split(' ').filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if !asked.contains(&"openid") {
            return Err(refused("invalid_scope", "The scope must include openid."));
        }
        let scope = SCOPES
            .iter()
            .filter(|s| asked.contains(s))
            .map(|s| (*s).to_owned())
            .collect();
        let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
            (None, None) => None,
            (Some(c), Some(m)) if m == "S256" && is_challenge(&c) => Some(c),
            (Some(_), Some(m)) if m == "S256" => {
                return Err(refused(
                    "invalid_request",
                    "code_challenge is not a base64url SHA-256 (43 characters).",
                ))
            }
            (Some(_), None | Some(_)) => return Err(refused(
                "invalid_request",
                "Only the S256 code challenge method is supported (code_challenge_method=S256).",
            )),
            (None, Some(_)) => {
                return Err(refused("invalid_request", "code_challenge is missing."))
            }
        };
        if client.is_public() && code_challenge.is_none() {
            return Err(refused(
                "invalid_request",
                "A public client must use PKCE (code_challenge with S256).",
            ));
        }
        let prompt = match get("prompt").as_deref() {
            None => Prompt::Default,
            Some("none") => Prompt::None,
            Some("login") => Prompt::Login,
            Some(p) if p.split(' ').any(|v| v == "none") => {
                return Err(refused(
                    "invalid_request",
                    "prompt=none cannot be combined with other values.",
                ))
            }
            Some(p) if p.split(' ').any(|v| v == "login") => Prompt::Login,
            // consent and select_account: first-party apps have no consent screen and a
            // browser holds one session, so there is nothing more to show.
            Some(_) => Prompt::Default,
        };
        let number = |k: &str| -> Result<Option<i64>, Refused> {
            get(k)
                .map(|v| {
                    v.parse::<i64>()
                        .ok()
                        .filter(|n| *n >= 0)
                        .ok_or_else(|| refused("invalid_request", "max_age is not a number."))
                })
                .transpose()
        };
        Ok(Self {
            client: client.id.clone(),
            redirect_uri,
            state: get("state"),
            nonce: get("nonce"),
            scope,
            code_challenge,
            prompt,
            max_age: number("max_age")?,
            login_hint: get("login_hint"),
            login_after: number("login_after")?,
        })
    }

    /// What to do with the browser's session (`auth_time` of a full one, if any) at `now`.
    pub fn decide(&self, auth_time: Option<i64>, now: Timestamp) -> Decision {
        let Some(auth_time) = auth_time else {
            return match self.prompt {
                Prompt::None => Decision::LoginRequired,
                _ => Decision::SignIn,
            };
        };
        // A sign-in Porter asked for (login_after) must have happened; one the app asked
        // for (prompt=login, max_age) is asked for once, then login_after stands for it.
        let too_old = self.login_after.is_some_and(|t| auth_time < t.min(now.0))
            || self.max_age.is_some_and(|m| now.0 - auth_time > m) && self.login_after.is_none();
        let again = self.prompt == Prompt::Login && self.login_after.is_none();
        match (self.prompt, too_old || again) {
            (Prompt::None, true) => Decision::LoginRequired,
            (_, true) => Decision::SignIn,
            (_, false) => Decision::Issue,
        }
    }

    /// This request as the path to come back to after signing in: `prompt=login` and
    /// `max_age` are replaced by `login_after` (now), so the sign-in is not asked for again.
    pub fn return_path(&self, params: &BTreeMap<String, String>, now: Timestamp) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            let asked_again = k == "prompt" && self.prompt == Prompt::Login;
            if asked_again || k == "max_age" || k == "login_after" {
                continue;
            }
            query.append_pair(k, v);
        }
        if self.prompt == Prompt::Login || self.max_age.is_some() || self.login_after.is_some() {
            let after = self.login_after.unwrap_or(now.0).min(now.0);
            query.append_pair("login_after", &after.to_string());
        }
        format!("/oauth2/authorize?{}", query.finish())
    }
}

/// What the authorization endpoint does with a browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Issue a code now.
    Issue,
    /// Send the browser to sign in, and back.
    SignIn,
    /// `prompt=none` and no (recent enough) sign-in: tell the client.
    LoginRequired,
}

/// A PKCE code challenge as S256 makes it: 43 base64url characters.
fn is_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `verifier` (RFC 7636 §4.1: 43 to 128 unreserved characters) hashes to `challenge`.
pub fn pkce_holds(verifier: &str, challenge: &str) -> bool {
    let shaped = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    shaped && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

/// An authorization code as stored: what it was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRecord {
    pub hash: TokenHash,
    pub client: ClientId,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scope: Vec<String>,
    /// The Porter session it came from, and whose it is.
    pub session: TokenHash,
    pub owner: SessionOwner,
    /// The grant its exchange starts (drawn now, so that a replay can name it).
    pub grant: GrantId,
    pub expires_at: Timestamp,
    /// Exchanged already.
    pub used: bool,
}

/// What an exchange of a code is refused for (all `invalid_grant` to the client; the reason
/// is logged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeRefusal {
    #[error("the code was issued to another client")]
    OtherClient,
    #[error("the code expired")]
    Expired,
    #[error("the redirect_uri differs from the authorization request's")]
    RedirectUri,
    #[error("the code verifier does not match the challenge")]
    Verifier,
    #[error("a code verifier for a code issued without a challenge")]
    UnexpectedVerifier,
}

impl CodeRecord {
    /// Whether `client` may exchange this code at `now` with `redirect_uri` and `verifier`.
    pub fn check(
        &self,
        client: &ClientId,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        now: Timestamp,
    ) -> Result<(), CodeRefusal> {
        if &self.client != client {
            return Err(CodeRefusal::OtherClient);
        }
        if now >= self.expires_at {
            return Err(CodeRefusal::Expired);
        }
        if redirect_uri != Some(self.redirect_uri.as_str()) {
            return Err(CodeRefusal::RedirectUri);
        }
        match (&self.code_challenge, verifier) {
            (Some(c), Some(v)) if pkce_holds(v, c) => Ok(()),
            (Some(_), _) => Err(CodeRefusal::Verifier),
            // RFC 9700 §2.1.1: a verifier without a challenge is a downgrade attempt.
            (None, Some(_)) => Err(CodeRefusal::UnexpectedVerifier),
            (None, None) => Ok(()),
        }
    }
}

/// What one code's exchange started: the tokens of one app in one Porter session. A replay
/// of the code or the reuse of a rotated refresh token revokes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantRecord {
    pub id: GrantId,
    pub client: ClientId,
    pub session: TokenHash,
    pub owner: SessionOwner,
    pub scope: Vec<String>,
    pub revoked: bool,
    pub expires_at: Timestamp,
}

/// A refresh token as stored: its grant, and whether it was rotated (used) already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub hash: TokenHash,
    pub grant: GrantId,
    pub client: ClientId,
    /// The grant's session and whose it is: read with the grant in one request.
    pub session: TokenHash,
    pub owner: SessionOwner,
    pub rotated: bool,
    pub expires_at: Timestamp,
}

/// The claims of an ID token (OpenID Connect Core §2) and Porter's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub azp: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    pub amr: Vec<String>,
    pub sid: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    pub tid: String,
    pub org_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msp: Option<String>,
}

/// Who signed in, as the ID token and userinfo tell it.
pub struct Subject<'a> {
    pub session: &'a SessionRecord,
    pub user: &'a UserRecord,
    /// The tenant the session acts in.
    pub tenant: &'a TenantRecord,
}

impl Subject<'_> {
    /// The ID token for `client`, issued by `issuer` at `now`.
    pub fn id_claims(
        &self,
        issuer: &str,
        client: &ClientId,
        nonce: Option<&str>,
        scope: &[String],
        now: Timestamp,
    ) -> IdClaims {
        let email = scope.iter().any(|s| s == "email");
        IdClaims {
            iss: issuer.to_owned(),
            sub: self.user.id.as_str().to_owned(),
            aud: client.as_str().to_owned(),
            azp: client.as_str().to_owned(),
            exp: now.0 + ID_TOKEN_SECS,
            iat: now.0,
            auth_time: self.session.created_at.0,
            nonce: nonce.map(str::to_owned),
            amr: self.session.amr.clone(),
            sid: self.session.hash.as_str().to_owned(),
            email: email.then(|| self.user.email.as_str().to_owned()),
            // Porter's addresses are proved: an invitation reaches them before anyone signs in.
            email_verified: email.then_some(true),
            tid: self.tenant.id.as_str().to_owned(),
            org_name: self.tenant.display_name().to_owned(),
            role: self.user.role.map(|r| r.as_str().to_owned()),
            msp: (self.tenant.id != self.user.tenant).then(|| self.user.tenant.as_str().to_owned()),
        }
    }

    /// `/oauth2/userinfo`'s answer for `scope`.
    pub fn userinfo(&self, scope: &[String]) -> BTreeMap<&'static str, serde_json::Value> {
        use serde_json::json;
        let has = |s: &str| scope.iter().any(|x| x == s);
        let mut out = BTreeMap::new();
        out.insert("sub", json!(self.user.id.as_str()));
        if has("email") {
            out.insert("email", json!(self.user.email.as_str()));
            out.insert("email_verified", json!(true));
        }
        if has("profile") {
            out.insert("preferred_username", json!(self.user.email.as_str()));
        }
        out.insert("tid", json!(self.tenant.id.as_str()));
        out.insert("org_name", json!(self.tenant.display_name()));
        if let Some(r) = self.user.role {
            out.insert("role", json!(r.as_str()));
        }
        if self.tenant.id != self.user.tenant {
            out.insert("msp", json!(self.user.tenant.as_str()));
        }
        out
    }
}

/// The owner of a session, as stored with codes and grants.
pub fn owner_of(tenant: TenantId, user: UserId, home: TenantId) -> SessionOwner {
    SessionOwner { tenant, user, home }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    fn client(public: bool) -> ClientRecord {
        let mut rng = StdRng::seed_from_u64(1);
        ClientRecord {
            id: ClientId::generate(&mut rng),
            name: "Support portal".into(),
            redirect_uris: vec!["https://support.example.com/cb".into()],
            post_logout_redirect_uris: vec![],
            secret_hash: (!public).then(|| new_secret(&mut rng).1),
            created_at: Timestamp(0),
        }
    }

    fn params(q: &str) -> BTreeMap<String, String> {
        single_params(q).unwrap()
    }

    #[test]
    fn the_rfc_7636_example_verifier_matches_its_challenge() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"; // pragma: allowlist secret
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; // pragma: allowlist secret (RFC 7636 Appendix B)
        assert!(pkce_holds(verifier, challenge));
        assert!(!pkce_holds(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", // pragma: allowlist secret
            challenge
        ));
        assert!(!pkce_holds("short", challenge));
    }

    #[test]
    fn a_repeated_parameter_is_refused_before_anything_else() {
        assert_eq!(
            single_params("redirect_uri=a&redirect_uri=b"),
            Err(Unsafe::Repeated("redirect_uri".into()))
        );
    }

    #[test]
    fn a_public_client_must_send_a_s256_challenge() {
        let c = client(true);
        let uri = c.redirect_uris[0].clone();
        let no_pkce =
            AuthorizeRequest::parse(&c, uri.clone(), &params("response_type=code&scope=openid"));
        assert_eq!(no_pkce.unwrap_err().error, "invalid_request");
        let plain = "response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain";
        assert_eq!(
            AuthorizeRequest::parse(&c, uri.clone(), &params(plain))
                .unwrap_err()
                .error,
            "invalid_request"
        );
        let s256 = plain.replace("plain", "S256");
        assert!(AuthorizeRequest::parse(&c, uri, &params(&s256)).is_ok());
    }

    #[test]
    fn openid_must_be_asked_for_and_unknown_scopes_are_dropped() {
        let c = client(false);
        let uri = c.redirect_uris[0].clone();
        let r = AuthorizeRequest::parse(&c, uri.clone(), &params("response_type=code&scope=email"));
        assert_eq!(r.unwrap_err().error, "invalid_scope");
        let r = AuthorizeRequest::parse(
            &c,
            uri,
            &params("response_type=code&scope=email%20openid%20admin"),
        )
        .unwrap();
        assert_eq!(r.scope, vec!["openid".to_owned(), "email".to_owned()]);
    }

    #[test]
    fn prompt_login_asks_once_then_the_fresh_sign_in_stands() {
        let c = client(false);
        let uri = c.redirect_uris[0].clone();
        let now = Timestamp(1_000);
        let p = params("response_type=code&scope=openid&prompt=login&state=s");
        let r = AuthorizeRequest::parse(&c, uri.clone(), &p).unwrap();
        assert_eq!(r.decide(Some(900), now), Decision::SignIn);
        let back = r.return_path(&p, now);
        assert!(
            back.contains("login_after=1000") && !back.contains("prompt"),
            "{back}"
        );
        let q = back.split_once('?').unwrap().1;
        let again = AuthorizeRequest::parse(&c, uri.clone(), &params(q)).unwrap();
        assert_eq!(again.decide(Some(999), Timestamp(1_010)), Decision::SignIn);
        assert_eq!(again.decide(Some(1_005), Timestamp(1_010)), Decision::Issue);
        let none = AuthorizeRequest::parse(
            &c,
            uri.clone(),
            &params("response_type=code&scope=openid&prompt=none"),
        )
        .unwrap();
        assert_eq!(none.decide(None, now), Decision::LoginRequired);
        assert_eq!(none.decide(Some(1), now), Decision::Issue);
        let aged = AuthorizeRequest::parse(
            &c,
            uri,
            &params("response_type=code&scope=openid&max_age=60"),
        )
        .unwrap();
        assert_eq!(aged.decide(Some(900), now), Decision::SignIn);
        assert_eq!(aged.decide(Some(950), now), Decision::Issue);
    }

    #[test]
    fn a_code_holds_only_for_its_client_uri_verifier_and_minute() {
        let mut rng = StdRng::seed_from_u64(2);
        let c = client(false);
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let code = CodeRecord {
            hash: new_token(&mut rng).1,
            client: c.id.clone(),
            redirect_uri: c.redirect_uris[0].clone(),
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            nonce: None,
            scope: vec!["openid".into()],
            session: new_token(&mut rng).1,
            owner: owner_of(TenantId::nobody(), UserId::nobody(), TenantId::nobody()),
            grant: GrantId::generate(&mut rng),
            expires_at: Timestamp(160),
            used: false,
        };
        let uri = Some(c.redirect_uris[0].as_str());
        assert_eq!(
            code.check(&c.id, uri, Some(verifier), Timestamp(100)),
            Ok(())
        );
        assert_eq!(
            code.check(&c.id, uri, Some(verifier), Timestamp(160)),
            Err(CodeRefusal::Expired)
        );
        assert_eq!(
            code.check(
                &c.id,
                Some("https://support.example.com/cb/"),
                Some(verifier),
                Timestamp(100)
            ),
            Err(CodeRefusal::RedirectUri)
        );
        assert_eq!(
            code.check(&c.id, uri, None, Timestamp(100)),
            Err(CodeRefusal::Verifier)
        );
        let other = ClientId::generate(&mut rng);
        assert_eq!(
            code.check(&other, uri, Some(verifier), Timestamp(100)),
            Err(CodeRefusal::OtherClient)
        );
        let plain = CodeRecord {
            code_challenge: None,
            ..code
        };
        assert_eq!(
            plain.check(&c.id, uri, Some(verifier), Timestamp(100)),
            Err(CodeRefusal::UnexpectedVerifier)
        );
    }

    #[test]
    fn redirect_uris_are_https_or_loopback_without_fragments() {
        assert!(check_redirect_uri("https://support.example.com/cb").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:4000/cb").is_ok());
        assert!(check_redirect_uri("http://support.example.com/cb").is_err());
        assert!(check_redirect_uri("https://support.example.com/cb#x").is_err());
        assert!(check_redirect_uri("javascript:alert(1)").is_err());
    }

    #[test]
    fn a_client_secret_is_checked_against_its_hash_only() {
        let mut rng = StdRng::seed_from_u64(3);
        let (secret, hash) = new_secret(&mut rng);
        let c = ClientRecord {
            secret_hash: Some(hash),
            ..client(false)
        };
        use secrecy::ExposeSecret;
        assert!(c.secret_is(secret.expose_secret()));
        assert!(!c.secret_is("wrong"));
        assert!(!client(true).secret_is(secret.expose_secret()));
    }
}
