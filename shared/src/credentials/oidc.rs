//! OpenID Connect, the parts Porter checks itself (pure, the time passed in): a provider's
//! discovery document (OpenID Discovery 1.0 §4.3), the authorization request (code flow with
//! PKCE S256, state and nonce) and the ID token (OpenID Connect Core §3.1.3.7). Signatures are
//! verified by `jsonwebtoken` with the provider's JWKS.

use crate::domain::sso::{ClientAuth, Provider};
use crate::domain::Timestamp;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;
use url::Url;

/// Clock skew allowed on `exp` and `iat`.
pub const LEEWAY_SECS: i64 = 60;

/// Signature algorithms with a public key: an ID token signed any other way (`none`, HMAC
/// with a "secret" an attacker can read from the JWKS) is refused.
const ASYMMETRIC: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// The issuer a discovery URL promises: the URL without the well-known suffix (§4.3).
pub fn issuer_of_discovery_url(discovery_url: &str) -> Option<String> {
    discovery_url
        .strip_suffix(WELL_KNOWN)
        .filter(|i| !i.is_empty())
        .map(str::to_owned)
}

fn strings(doc: &Value, field: &str) -> Vec<String> {
    doc[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The provider a discovery document describes, if it offers what Porter needs; otherwise a
/// sentence saying what is wrong, for the admin.
pub fn provider_from_discovery(doc: &Value, expected_issuer: &str) -> Result<Provider, String> {
    let field = |name: &str| -> Result<String, String> {
        doc[name]
            .as_str()
            .filter(|v| Url::parse(v).is_ok())
            .map(str::to_owned)
            .ok_or_else(|| format!("the discovery document has no valid {name}"))
    };
    let issuer = doc["issuer"].as_str().unwrap_or_default();
    if issuer != expected_issuer {
        return Err(format!(
            "the discovery document names the issuer {issuer:?}, but its URL promises {expected_issuer:?}"
        ));
    }
    if !strings(doc, "response_types_supported")
        .iter()
        .any(|t| t == "code")
    {
        return Err("the provider does not offer the authorization code flow".into());
    }
    if !strings(doc, "code_challenge_methods_supported")
        .iter()
        .any(|m| m == "S256")
    {
        return Err("the provider does not offer PKCE with S256".into());
    }
    let algorithms: Vec<String> = strings(doc, "id_token_signing_alg_values_supported")
        .into_iter()
        .filter(|a| ASYMMETRIC.contains(&a.as_str()))
        .collect();
    if algorithms.is_empty() {
        return Err(
            "the provider signs ID tokens with no asymmetric algorithm Porter accepts".into(),
        );
    }
    // Absent means client_secret_basic (OpenID Discovery §3).
    let methods = strings(doc, "token_endpoint_auth_methods_supported");
    let client_auth = if methods.is_empty() || methods.iter().any(|m| m == "client_secret_basic") {
        ClientAuth::ClientSecretBasic
    } else if methods.iter().any(|m| m == "client_secret_post") {
        ClientAuth::ClientSecretPost
    } else {
        return Err(
            "the provider accepts neither client_secret_basic nor client_secret_post".into(),
        );
    };
    Ok(Provider {
        issuer: issuer.to_owned(),
        authorization_endpoint: field("authorization_endpoint")?,
        token_endpoint: field("token_endpoint")?,
        jwks_uri: field("jwks_uri")?,
        client_auth,
        algorithms,
        iss_parameter: doc["authorization_response_iss_parameter_supported"] == Value::Bool(true),
    })
}

/// A key set with at least one key Porter can verify with.
pub fn parse_jwks(body: &[u8]) -> Result<JwkSet, String> {
    let set: JwkSet = serde_json::from_slice(body)
        .map_err(|_| "the provider's jwks_uri does not answer a JSON key set".to_owned())?;
    if set.keys.iter().any(|k| DecodingKey::from_jwk(k).is_ok()) {
        Ok(set)
    } else {
        Err("the provider's key set holds no usable signing key".into())
    }
}

/// The authorization request: code flow, `openid email profile`, state, nonce, PKCE S256.
pub struct AuthorizationRequest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub nonce: &'a str,
    pub challenge: &'a str,
    pub login_hint: Option<&'a str>,
}

pub fn authorization_url(provider: &Provider, r: &AuthorizationRequest<'_>) -> String {
    let mut url = match Url::parse(&provider.authorization_endpoint) {
        Ok(u) => u,
        Err(_) => return provider.authorization_endpoint.clone(),
    };
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", r.client_id)
            .append_pair("redirect_uri", r.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", r.state)
            .append_pair("nonce", r.nonce)
            .append_pair("code_challenge", r.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(hint) = r.login_hint {
            q.append_pair("login_hint", hint);
        }
    }
    url.into()
}

/// What the ID token must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
    pub algorithms: &'a [String],
    /// Entra ID: the configured directory, which `tid` must equal.
    pub directory_id: Option<&'a str>,
}

/// The claims Porter reads.
#[derive(Debug, Clone, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: Option<String>,
    #[serde(default)]
    pub aud: Audience,
    pub azp: Option<String>,
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub nonce: Option<String>,
    pub email: Option<String>,
    pub email_verified: Option<Value>,
    pub preferred_username: Option<String>,
    pub xms_edov: Option<Value>,
    pub tid: Option<String>,
    /// How the provider authenticated the person (RFC 8176), when it says.
    pub amr: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
    #[default]
    None,
}

impl Audience {
    fn all(&self) -> Vec<&str> {
        match self {
            Self::One(a) => vec![a.as_str()],
            Self::Many(v) => v.iter().map(String::as_str).collect(),
            Self::None => vec![],
        }
    }
}

fn truthy(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || matches!(v, Some(Value::String(s)) if s == "true")
}

impl IdClaims {
    pub fn subject(&self) -> &str {
        self.sub.as_deref().unwrap_or_default()
    }

    /// The `amr` values, when the claim is a list of strings (anything else says nothing).
    pub fn methods(&self) -> Vec<String> {
        match &self.amr {
            Some(Value::Array(values)) => values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The address the provider vouches for: OIDC `email` with `email_verified: true`; Entra
    /// ID `preferred_username`, or `email` when `xms_edov` says its domain is verified.
    pub fn verified_email(&self, entra: bool) -> Option<&str> {
        if entra {
            if truthy(self.xms_edov.as_ref()) {
                if let Some(e) = self.email.as_deref() {
                    return Some(e);
                }
            }
            self.preferred_username.as_deref()
        } else {
            self.email
                .as_deref()
                .filter(|_| truthy(self.email_verified.as_ref()))
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    /// The header names a key the set does not hold: fetch the set again, once.
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    #[error("{0}")]
    Invalid(String),
}

fn invalid(why: impl Into<String>) -> IdTokenError {
    IdTokenError::Invalid(why.into())
}

/// Checks an ID token fully: algorithm from the provider's asymmetric list, signature by a key
/// of `jwks`, `iss` exactly, `aud` containing the client (and `azp` equal to it when there are
/// several audiences), `exp` and `iat` within 60 s of skew, `sub` present, `nonce` equal, and
/// for Entra ID `tid` equal to the directory.
pub fn validate_id_token(
    token: &str,
    jwks: &JwkSet,
    expected: &Expected<'_>,
    now: Timestamp,
) -> Result<IdClaims, IdTokenError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| invalid("the ID token header is not valid (or its alg is none)"))?;
    let alg_name = format!("{:?}", header.alg);
    if !expected.algorithms.contains(&alg_name) {
        return Err(invalid(format!(
            "the ID token is signed with {alg_name}, which the provider does not offer"
        )));
    }
    // Only keys published for signatures (or not marked) and for the header's algorithm (or
    // not marked) may check the token.
    let usable: Vec<&Jwk> = jwks
        .keys
        .iter()
        .filter(|k| {
            let for_signing = k
                .common
                .public_key_use
                .as_ref()
                .is_none_or(|u| *u == PublicKeyUse::Signature);
            let for_alg = k
                .common
                .key_algorithm
                .as_ref()
                .is_none_or(|a| format!("{a:?}") == alg_name);
            for_signing && for_alg
        })
        .collect();
    let jwk = match &header.kid {
        Some(kid) => *usable
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
            .ok_or(IdTokenError::UnknownKey)?,
        None if usable.len() == 1 => usable[0],
        None => return Err(invalid("the ID token names no key id")),
    };
    let key =
        DecodingKey::from_jwk(jwk).map_err(|_| invalid("the provider's key cannot be used"))?;
    let mut validation = Validation::new(header.alg);
    // Time and audience are checked below against our own clock and rules.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map_err(|_| invalid("the ID token's signature does not verify"))?
        .claims;
    if claims.iss != expected.issuer {
        return Err(invalid(format!(
            "the ID token's issuer {:?} is not the provider's",
            claims.iss
        )));
    }
    let audiences = claims.aud.all();
    if !audiences.contains(&expected.client_id) {
        return Err(invalid("the ID token is not meant for this client"));
    }
    if audiences.len() > 1 && claims.azp.as_deref() != Some(expected.client_id) {
        return Err(invalid(
            "the ID token has several audiences and azp is not this client",
        ));
    }
    match claims.exp {
        Some(exp) if now.0 < exp + LEEWAY_SECS => {}
        Some(_) => return Err(invalid("the ID token has expired")),
        None => return Err(invalid("the ID token has no expiry")),
    }
    match claims.iat {
        Some(iat) if iat <= now.0 + LEEWAY_SECS => {}
        Some(_) => return Err(invalid("the ID token was issued in the future")),
        None => return Err(invalid("the ID token has no issue time")),
    }
    if claims.subject().is_empty() {
        return Err(invalid("the ID token has no subject"));
    }
    if claims.nonce.as_deref() != Some(expected.nonce) {
        return Err(invalid("the ID token's nonce is not the one sent"));
    }
    if let Some(directory) = expected.directory_id {
        if claims.tid.as_deref() != Some(directory) {
            return Err(invalid(
                "the ID token comes from another Entra ID directory",
            ));
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "issuer": "https://idp.test/tenant",
            "authorization_endpoint": "https://idp.test/auth",
            "token_endpoint": "https://idp.test/token",
            "jwks_uri": "https://idp.test/jwks",
            "response_types_supported": ["code", "id_token"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
        })
    }

    #[test]
    fn a_discovery_document_must_name_the_promised_issuer_and_offer_code_pkce_and_an_asymmetric_alg(
    ) {
        let issuer =
            issuer_of_discovery_url("https://idp.test/tenant/.well-known/openid-configuration")
                .unwrap();
        let p = provider_from_discovery(&doc(), &issuer).unwrap();
        assert_eq!(p.algorithms, vec!["RS256"]);
        assert_eq!(p.client_auth, ClientAuth::ClientSecretBasic);
        assert!(provider_from_discovery(&doc(), "https://idp.test/other")
            .unwrap_err()
            .contains("issuer"));
        let mut d = doc();
        d["code_challenge_methods_supported"] = json!(["plain"]);
        assert!(provider_from_discovery(&d, &issuer)
            .unwrap_err()
            .contains("S256"));
        let mut d = doc();
        d["id_token_signing_alg_values_supported"] = json!(["HS256", "none"]);
        assert!(provider_from_discovery(&d, &issuer)
            .unwrap_err()
            .contains("asymmetric"));
        let mut d = doc();
        d["token_endpoint_auth_methods_supported"] = json!(["client_secret_post"]);
        assert_eq!(
            provider_from_discovery(&d, &issuer).unwrap().client_auth,
            ClientAuth::ClientSecretPost
        );
        assert_eq!(issuer_of_discovery_url("https://idp.test/x"), None);
    }

    #[test]
    fn the_authorization_url_carries_code_flow_state_nonce_and_s256() {
        let p = provider_from_discovery(&doc(), "https://idp.test/tenant").unwrap();
        let url = authorization_url(
            &p,
            &AuthorizationRequest {
                client_id: "porter",
                redirect_uri: "https://id.example.com/api/login/callback",
                state: "st",
                nonce: "no",
                challenge: "ch",
                login_hint: Some("ann@acme.com"),
            },
        );
        let parsed = Url::parse(&url).unwrap();
        let q: std::collections::HashMap<_, _> = parsed.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["scope"], "openid email profile");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!((q["state"].as_str(), q["nonce"].as_str()), ("st", "no"));
        assert_eq!(q["login_hint"], "ann@acme.com");
    }

    #[test]
    fn only_a_verified_address_is_offered_for_linking() {
        let claims = |v: Value| -> IdClaims { serde_json::from_value(v).unwrap() };
        let c = claims(json!({"iss": "i", "email": "a@b.c", "email_verified": false}));
        assert_eq!(c.verified_email(false), None);
        let c = claims(json!({"iss": "i", "email": "a@b.c", "email_verified": true}));
        assert_eq!(c.verified_email(false), Some("a@b.c"));
        let c = claims(json!({"iss": "i", "email": "x@b.c", "preferred_username": "a@b.c"}));
        assert_eq!(c.verified_email(true), Some("a@b.c"));
        let c = claims(
            json!({"iss": "i", "email": "x@b.c", "xms_edov": true, "preferred_username": "a@b.c"}),
        );
        assert_eq!(c.verified_email(true), Some("x@b.c"));
    }
}
