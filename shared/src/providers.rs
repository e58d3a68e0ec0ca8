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
use std::time::{Duration, Instant};

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

/// Providers' key sets, kept as long as the provider's `Cache-Control` says (one hour when it
/// says nothing, at most a day). A token naming a key the cached set lacks sends for the set
/// again — once a minute at most, so that tokens with made-up key ids cannot make Porter
/// hammer a provider.
#[derive(Clone, Default)]
pub struct JwksCache(Arc<Mutex<HashMap<String, CachedSet>>>);

#[derive(Clone)]
struct CachedSet {
    set: JwkSet,
    expires: Instant,
    /// When a token's unknown key last sent for the set.
    forced: Option<Instant>,
}

/// How long a key set is kept without a `Cache-Control` lifetime, and at most.
const DEFAULT_KEEP: Duration = Duration::from_secs(3600);
const MAX_KEEP: Duration = Duration::from_secs(24 * 3600);
/// Unknown keys send for the set at most this often.
const FORCED_EVERY: Duration = Duration::from_secs(60);

impl JwksCache {
    /// The key set at `jwks_uri`; `unknown_key` when a token named a key the set lacked.
    pub async fn get(
        &self,
        config: &Config,
        jwks_uri: &str,
        unknown_key: bool,
    ) -> Result<JwkSet, DiscoveryError> {
        let now = Instant::now();
        let cached = self.0.lock().ok().and_then(|m| m.get(jwks_uri).cloned());
        if let Some(c) = &cached {
            let recently_forced = c.forced.is_some_and(|f| now - f < FORCED_EVERY);
            if now < c.expires && (!unknown_key || recently_forced) {
                return Ok(c.set.clone());
            }
        }
        let answer =
            outbound::get(&outbound::check(jwks_uri, config.allow_loopback).await?).await?;
        let set = oidc::parse_jwks(&answer.body).map_err(DiscoveryError::Invalid)?;
        let keep = answer
            .max_age
            .map_or(DEFAULT_KEEP, Duration::from_secs)
            .min(MAX_KEEP);
        let forced = if unknown_key {
            Some(now)
        } else {
            cached.and_then(|c| c.forced)
        };
        let entry = CachedSet {
            set: set.clone(),
            expires: now + keep,
            forced,
        };
        if let Ok(mut m) = self.0.lock() {
            m.insert(jwks_uri.to_owned(), entry);
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
pub struct SecretCache(Arc<Mutex<HashMap<(TenantId, String), BoundSecret>>>);

/// A client secret with the token endpoint it was saved for (`None`: saved before endpoints
/// were kept; its configuration, saved with it, names the endpoint).
#[derive(Clone)]
pub struct BoundSecret {
    pub secret: SecretString,
    pub token_endpoint: Option<String>,
}

impl BoundSecret {
    /// The secret, when it may go to `token_endpoint`.
    pub fn for_endpoint(&self, token_endpoint: &str) -> Option<&SecretString> {
        match &self.token_endpoint {
            Some(e) if e != token_endpoint => None,
            _ => Some(&self.secret),
        }
    }
}

impl SecretCache {
    pub fn get(&self, tid: &TenantId, secret_ref: &str) -> Option<BoundSecret> {
        let key = (tid.clone(), secret_ref.to_owned());
        self.0.lock().ok().and_then(|m| m.get(&key).cloned())
    }

    pub fn keep(&self, tid: &TenantId, secret_ref: &str, secret: &BoundSecret) {
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
