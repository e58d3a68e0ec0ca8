//! Signing access tokens with KMS (ES256: the private key never leaves KMS) and publishing the
//! public keys as a JWKS. The signing key is named by an alias (`PORTER_TOKEN_KEY`); an
//! instance keeps its id (the token's `kid`) and the JWKS a few seconds ([`KEEP_FOR`]).

use crate::domain::access_token::{compact, signing_input, AccessClaims, Header, Jwk, Jwks};
use crate::AppState;
use aws_sdk_kms::error::DisplayErrorContext;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("KMS: {0}")]
    Kms(String),
    #[error("the key is not an ECC_NIST_P256 key: {0}")]
    Key(String),
    #[error("the current key is too young to rotate out: tokens it signed may be alive; try again in {0} s")]
    TooSoon(i64),
}

fn kms_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> TokenError {
    TokenError::Kms(DisplayErrorContext(e).to_string())
}

/// How long an instance keeps the signing key's id and the JWKS: a rotation reaches it within
/// this, long before the key rotated out leaves the JWKS ([`ROTATE_EVERY_SECS`]).
const KEEP_FOR: std::time::Duration = std::time::Duration::from_secs(10);

/// What `slot` keeps, while younger than [`KEEP_FOR`]; else `fetch`ed again and kept.
async fn kept<T: Clone>(
    slot: &crate::state::Timed<T>,
    fetch: impl std::future::Future<Output = Result<T, TokenError>>,
) -> Result<T, TokenError> {
    let mut cached = slot.lock().await;
    if let Some((value, _)) = cached.as_ref().filter(|(_, at)| at.elapsed() < KEEP_FOR) {
        return Ok(value.clone());
    }
    let value = fetch.await?;
    *cached = Some((value.clone(), std::time::Instant::now()));
    Ok(value)
}

/// The current signing key's id (what KMS calls `KeyId`, and the tokens' `kid`).
pub async fn signing_kid(state: &AppState) -> Result<String, TokenError> {
    kept(&state.token_kid, key_id(state, &state.config.token_key)).await
}

/// Signs `claims` as an `at+jwt` with the current key.
pub async fn sign(state: &AppState, claims: &AccessClaims) -> Result<String, TokenError> {
    let kid = signing_kid(state).await?;
    sign_with(state, &Header::es256(&kid), claims).await
}

/// Signs an ID token's claims (`typ` JWT) with the current key.
pub async fn sign_id_token(
    state: &AppState,
    claims: &crate::domain::oauth::IdClaims,
) -> Result<String, TokenError> {
    let kid = signing_kid(state).await?;
    sign_with(state, &Header::id_token(&kid), claims).await
}

async fn sign_with(
    state: &AppState,
    header: &Header,
    claims: &impl serde::Serialize,
) -> Result<String, TokenError> {
    let kid = &header.kid;
    let input = signing_input(header, claims);
    let out = state
        .kms()
        .sign()
        .key_id(kid)
        .message(Blob::new(input.as_bytes()))
        .message_type(MessageType::Raw)
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .map_err(kms_error)?;
    let der = out
        .signature
        .ok_or_else(|| TokenError::Kms("no signature".into()))?;
    let signature = crate::credentials::crypto::ecdsa_der_to_jose(der.as_ref())
        .ok_or_else(|| TokenError::Key("a signature that is not P-256 ECDSA".into()))?;
    Ok(compact(&input, &signature))
}

/// The JWKS: the current signing key and the one rotated out, if any.
pub async fn jwks(state: &AppState) -> Result<Jwks, TokenError> {
    kept(&state.jwks_doc, fetch_jwks(state)).await
}

/// The current key and, after a rotation, the previous one (`<alias>-previous`): tokens it
/// signed verify until they expire.
async fn fetch_jwks(state: &AppState) -> Result<Jwks, TokenError> {
    let mut keys = Vec::new();
    let aliases = [
        state.config.token_key.clone(),
        previous_alias(&state.config.token_key),
    ];
    for (i, alias) in aliases.iter().enumerate() {
        match key_id(state, alias).await {
            Ok(kid) => keys.push(public_jwk(state, &kid).await?),
            // No previous key before the first rotation.
            Err(_) if i > 0 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Jwks { keys })
}

/// The alias that keeps the key rotated out.
pub fn previous_alias(alias: &str) -> String {
    format!("{alias}-previous")
}

async fn key_id(state: &AppState, alias: &str) -> Result<String, TokenError> {
    let out = state
        .kms()
        .describe_key()
        .key_id(alias)
        .send()
        .await
        .map_err(kms_error)?;
    out.key_metadata
        .map(|m| m.key_id)
        .ok_or_else(|| TokenError::Kms("no key metadata".into()))
}

/// How long after a rotation another is refused: every token the key rotated out signed
/// must have expired before it leaves the JWKS.
pub const ROTATE_EVERY_SECS: i64 = 2 * crate::domain::access_token::ACCESS_TOKEN_SECS;

/// `porterctl keys rotate`: a new signing key becomes current (the alias moves to it) and the
/// current one becomes the previous (still in the JWKS). The new key's id, or a refusal while
/// the current key is younger than [`ROTATE_EVERY_SECS`] (tokens of the previous one may
/// still be alive).
pub async fn rotate(state: &AppState, now: i64) -> Result<String, TokenError> {
    use aws_sdk_kms::types::{KeySpec, KeyUsageType};
    let kms = state.kms();
    let alias = &state.config.token_key;
    let current = kms
        .describe_key()
        .key_id(alias)
        .send()
        .await
        .map_err(kms_error)?
        .key_metadata
        .ok_or_else(|| TokenError::Kms("no key metadata".into()))?;
    let born = current.creation_date.map_or(0, |d| d.secs());
    if now - born < ROTATE_EVERY_SECS && kms_has(state, &previous_alias(alias)).await {
        return Err(TokenError::TooSoon(ROTATE_EVERY_SECS - (now - born)));
    }
    let new = kms
        .create_key()
        .key_spec(KeySpec::EccNistP256)
        .key_usage(KeyUsageType::SignVerify)
        .description(format!("Porter access tokens ({alias})"))
        .send()
        .await
        .map_err(kms_error)?
        .key_metadata
        .ok_or_else(|| TokenError::Kms("no key metadata".into()))?
        .key_id;
    let previous = previous_alias(alias);
    if kms_has(state, &previous).await {
        kms.update_alias()
            .alias_name(&previous)
            .target_key_id(&current.key_id)
            .send()
            .await
            .map_err(kms_error)?;
    } else {
        kms.create_alias()
            .alias_name(&previous)
            .target_key_id(&current.key_id)
            .send()
            .await
            .map_err(kms_error)?;
    }
    kms.update_alias()
        .alias_name(alias)
        .target_key_id(&new)
        .send()
        .await
        .map_err(kms_error)?;
    Ok(new)
}

async fn kms_has(state: &AppState, alias: &str) -> bool {
    state
        .kms()
        .describe_key()
        .key_id(alias)
        .send()
        .await
        .is_ok()
}

const REFETCH_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// The published key `kid` names, if any: the authorizer's keys are fetched on first use and
/// again for a `kid` they lack, at most once a minute (a token naming an unknown key cannot
/// make every request call KMS).
pub async fn verifying_key(state: &AppState, kid: &str) -> Result<Option<Jwk>, TokenError> {
    let mut cache = state.verifier_keys.lock().await;
    let find = |jwks: &Jwks| jwks.keys.iter().find(|k| k.kid == kid).cloned();
    if let Some((jwks, fetched)) = cache.as_ref() {
        if let Some(k) = find(jwks) {
            return Ok(Some(k));
        }
        if fetched.elapsed() < REFETCH_AFTER {
            return Ok(None);
        }
    }
    let jwks = fetch_jwks(state).await?;
    let found = find(&jwks);
    *cache = Some((jwks, std::time::Instant::now()));
    Ok(found)
}

async fn public_jwk(state: &AppState, kid: &str) -> Result<Jwk, TokenError> {
    let out = state
        .kms()
        .get_public_key()
        .key_id(kid)
        .send()
        .await
        .map_err(kms_error)?;
    let der = out
        .public_key
        .ok_or_else(|| TokenError::Kms("no public key".into()))?;
    let (x, y) = crate::credentials::crypto::p256_coordinates(der.as_ref())
        .ok_or_else(|| TokenError::Key(kid.to_owned()))?;
    Ok(Jwk {
        kty: "EC",
        crv: "P-256",
        x: URL_SAFE_NO_PAD.encode(x),
        y: URL_SAFE_NO_PAD.encode(y),
        kid: kid.to_owned(),
        alg: "ES256",
        use_: "sig",
    })
}
