//! Signing access tokens with KMS (ES256: the private key never leaves KMS) and publishing the
//! public keys as a JWKS. The signing key is named by an alias (`PORTER_TOKEN_KEY`); its id
//! (the token's `kid`) and the JWKS are fetched once per instance.

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
}

fn kms_error<E: std::error::Error + Send + Sync + 'static>(e: E) -> TokenError {
    TokenError::Kms(DisplayErrorContext(e).to_string())
}

/// The current signing key's id (what KMS calls `KeyId`, and the tokens' `kid`), once per
/// instance.
pub async fn signing_kid(state: &AppState) -> Result<&str, TokenError> {
    state
        .token_kid
        .get_or_try_init(|| async {
            let out = state
                .kms()
                .describe_key()
                .key_id(&state.config.token_key)
                .send()
                .await
                .map_err(kms_error)?;
            out.key_metadata
                .map(|m| m.key_id)
                .ok_or_else(|| TokenError::Kms("no key metadata".into()))
        })
        .await
        .map(String::as_str)
}

/// Signs `claims` as an `at+jwt` with the current key.
pub async fn sign(state: &AppState, claims: &AccessClaims) -> Result<String, TokenError> {
    let kid = signing_kid(state).await?;
    let input = signing_input(&Header::es256(kid), claims);
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

/// The JWKS: the current signing key, once per instance.
pub async fn jwks(state: &AppState) -> Result<&Jwks, TokenError> {
    state.jwks_doc.get_or_try_init(|| fetch_jwks(state)).await
}

async fn fetch_jwks(state: &AppState) -> Result<Jwks, TokenError> {
    let out = state
        .kms()
        .describe_key()
        .key_id(&state.config.token_key)
        .send()
        .await
        .map_err(kms_error)?;
    let kid = out
        .key_metadata
        .map(|m| m.key_id)
        .ok_or_else(|| TokenError::Kms("no key metadata".into()))?;
    Ok(Jwks {
        keys: vec![public_jwk(state, &kid).await?],
    })
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
