//! What an instance keeps of the identity providers it talks to: their key sets (fetched again
//! when a token names a key the cached set lacks) and the client secrets of the
//! configurations it served. Below both `state` (which holds the caches) and `sso` (which
//! fills them), so that neither needs the other.

use crate::credentials::oidc;
use crate::domain::TenantId;
use crate::outbound::{self, OutboundError};
use crate::Config;
use jsonwebtoken::jwk::JwkSet;
use secrecy::SecretString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The URL (or an endpoint it names) is not one Porter may call.
    #[error("{0}")]
    AddressRefused(String),
    /// The document, or the key set, is not usable; the message says why.
    #[error("{0}")]
    Invalid(String),
}

impl From<OutboundError> for DiscoveryError {
    fn from(e: OutboundError) -> Self {
        match e {
            OutboundError::Refused(why) => Self::AddressRefused(why),
            other => Self::Invalid(other.to_string()),
        }
    }
}

/// Providers' key sets, kept for the life of the instance and fetched again when a token
/// names a key the cached set does not hold (the provider rotated its keys).
#[derive(Clone, Default)]
pub struct JwksCache(Arc<Mutex<HashMap<String, JwkSet>>>);

impl JwksCache {
    pub async fn get(
        &self,
        config: &Config,
        jwks_uri: &str,
        refresh: bool,
    ) -> Result<JwkSet, DiscoveryError> {
        if !refresh {
            if let Some(set) = self.0.lock().ok().and_then(|m| m.get(jwks_uri).cloned()) {
                return Ok(set);
            }
        }
        let answer =
            outbound::get(&outbound::check(jwks_uri, config.allow_loopback).await?).await?;
        let set = oidc::parse_jwks(&answer.body).map_err(DiscoveryError::Invalid)?;
        if let Ok(mut m) = self.0.lock() {
            m.insert(jwks_uri.to_owned(), set.clone());
        }
        Ok(set)
    }
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwksCache")
    }
}

/// Client secrets by tenant and reference, kept for the life of the instance. A reference
/// names one saved secret: a changed secret is saved under a new one.
#[derive(Clone, Default)]
pub struct SecretCache(Arc<Mutex<HashMap<(TenantId, String), SecretString>>>);

impl SecretCache {
    pub fn get(&self, tid: &TenantId, secret_ref: &str) -> Option<SecretString> {
        let key = (tid.clone(), secret_ref.to_owned());
        self.0.lock().ok().and_then(|m| m.get(&key).cloned())
    }

    pub fn keep(&self, tid: &TenantId, secret_ref: &str, secret: &SecretString) {
        if let Ok(mut m) = self.0.lock() {
            m.insert((tid.clone(), secret_ref.to_owned()), secret.clone());
        }
    }
}

impl std::fmt::Debug for SecretCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretCache")
    }
}
