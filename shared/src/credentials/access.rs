//! Checking an access token (an `at+jwt` Porter signed) against the published keys: ES256 only,
//! the right `kid`, `iss` and `aud`, not expired (30 s of leeway for clocks), and the header's
//! `typ`. Pure: the keys and the clock come in.

use crate::domain::access_token::{AccessClaims, Jwk};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};

/// Clocks of issuer and verifier may differ by this much.
pub const LEEWAY_SECS: u64 = 30;

/// Why a token was refused (logged, never told: the authorizer answers only "no").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("not a JWT")]
    Malformed,
    #[error("the header is not ES256 at+jwt")]
    Header,
    #[error("no published key has kid {0}")]
    UnknownKey(String),
    #[error("{0}")]
    Invalid(String),
}

/// The `kid` an access token names, for finding its key.
pub fn kid_of(token: &str) -> Result<String, Refusal> {
    kid_of_typed(token, "at+jwt")
}

/// The `kid` of an ID token Porter signed (ES256, `typ` JWT).
pub fn id_token_kid(token: &str) -> Result<String, Refusal> {
    kid_of_typed(token, "JWT")
}

/// The `kid` of an ES256 token of type `typ`.
fn kid_of_typed(token: &str, typ: &str) -> Result<String, Refusal> {
    let header = decode_header(token).map_err(|_| Refusal::Malformed)?;
    if header.alg != Algorithm::ES256 || header.typ.as_deref() != Some(typ) {
        return Err(Refusal::Header);
    }
    header.kid.ok_or(Refusal::Header)
}

/// The key that verifies a token naming `kid`, if `key` is that published ES256 key.
fn decoding_key(kid: String, key: &Jwk) -> Result<DecodingKey, Refusal> {
    if kid != key.kid || key.alg != "ES256" || key.crv != "P-256" {
        return Err(Refusal::UnknownKey(kid));
    }
    DecodingKey::from_ec_components(&key.x, &key.y).map_err(|e| Refusal::Invalid(e.to_string()))
}

/// The claims of `token` if `key` (the published key its `kid` names) verifies it for
/// `issuer` and `audience` at `now` (seconds).
pub fn verify(
    token: &str,
    key: &Jwk,
    issuer: &str,
    audience: &str,
    now: i64,
) -> Result<AccessClaims, Refusal> {
    let decoding = decoding_key(kid_of(token)?, key)?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.leeway = LEEWAY_SECS;
    validation.validate_exp = true;
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let data = decode::<AccessClaims>(token, &decoding, &validation)
        .map_err(|e| Refusal::Invalid(e.to_string()))?;
    // jsonwebtoken reads the system clock; the rule is also checked against the one given.
    if data.claims.exp + i64::try_from(LEEWAY_SECS).unwrap_or(0) < now {
        return Err(Refusal::Invalid("expired".into()));
    }
    Ok(data.claims)
}

/// The claims of an ID token Porter issued, as an `id_token_hint` presents it: signed by
/// `key`, issued by `issuer`, whatever its age (OpenID Connect RP-Initiated Logout §2: an
/// expired ID token is still a good hint). The audience is the caller's to compare.
pub fn verify_id_token_hint(
    token: &str,
    key: &Jwk,
    issuer: &str,
) -> Result<crate::domain::oauth::IdClaims, Refusal> {
    let decoding = decoding_key(id_token_kid(token)?, key)?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[issuer]);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["iss", "aud", "sub"]);
    decode::<crate::domain::oauth::IdClaims>(token, &decoding, &validation)
        .map(|d| d.claims)
        .map_err(|e| Refusal::Invalid(e.to_string()))
}
