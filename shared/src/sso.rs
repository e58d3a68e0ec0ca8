//! Single sign-on, the parts several functions share: reading a provider's discovery document
//! (configure-sso, porterctl), the client secret in Secrets Manager, the provider's keys
//! (cached per instance) and starting a sign-in at the provider (login's identify,
//! configure-sso's test). The callback's own flow is in `functions/login-callback`.

use crate::credentials::oidc::{self, AuthorizationRequest};
use crate::domain::address::is_https_or_loopback;
use crate::domain::sso::{pkce_challenge, state_hash, IdpConfig, Provider, SsoMethod};
use crate::domain::{SsoPurpose, SsoState, TenantId, Timestamp};
use crate::outbound;
use crate::secrets::SecretsError;
use crate::store::StoreError;
use crate::{AppState, Config};
use http::HeaderValue;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;

pub use crate::providers::{BoundSecret, DiscoveryError, JwksCache};

/// The discovery URL of an Entra ID directory under the configured authority.
pub fn entra_discovery_url(config: &Config, directory_id: &str) -> String {
    format!(
        "{}/{directory_id}/v2.0/.well-known/openid-configuration",
        config.entra_authority.as_str().trim_end_matches('/')
    )
}

/// Fetches and checks a discovery document and the key set it points to. Nothing is stored.
pub async fn discover(state: &AppState, discovery_url: &str) -> Result<Provider, DiscoveryError> {
    let allow = state.config.allow_loopback;
    let issuer = oidc::issuer_of_discovery_url(discovery_url).ok_or_else(|| {
        DiscoveryError::Invalid(
            "the discovery URL must end with /.well-known/openid-configuration".into(),
        )
    })?;
    let answer = outbound::get(&outbound::check(discovery_url, allow).await?).await?;
    if answer.status != 200 {
        return Err(DiscoveryError::Invalid(format!(
            "the discovery URL answered HTTP {}",
            answer.status
        )));
    }
    let doc: serde_json::Value = answer
        .json()
        .map_err(|_| DiscoveryError::Invalid("the discovery URL does not answer JSON".into()))?;
    let provider = oidc::provider_from_discovery(&doc, &issuer).map_err(DiscoveryError::Invalid)?;
    // The browser is sent there with the sign-in's state: https only, like the server's calls.
    let authorization = url::Url::parse(&provider.authorization_endpoint).ok();
    if !authorization.is_some_and(|u| is_https_or_loopback(&u, allow)) {
        return Err(DiscoveryError::Invalid(
            "the authorization endpoint must be an https:// address".into(),
        ));
    }
    // The server calls these two; the browser is sent to the authorization endpoint.
    outbound::check(&provider.token_endpoint, allow).await?;
    let jwks = outbound::get(&outbound::check(&provider.jwks_uri, allow).await?).await?;
    oidc::parse_jwks(&jwks.body).map_err(DiscoveryError::Invalid)?;
    Ok(provider)
}

/// The client secrets of a tenant's configurations, one per configuration (`secret_ref`), so
/// that the one sign-in uses and the one awaiting its test never overwrite each other; each
/// with the token endpoint it was saved for. Only in Secrets Manager.
type StoredSecrets = HashMap<String, StoredSecret>;

#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum StoredSecret {
    Bound {
        secret: String,
        token_endpoint: String,
    },
    /// Saved before endpoints were kept with secrets.
    Unbound(String),
}

impl StoredSecret {
    fn bound(self) -> BoundSecret {
        match self {
            Self::Bound {
                secret,
                token_endpoint,
            } => BoundSecret {
                secret: SecretString::from(secret),
                token_endpoint: Some(token_endpoint),
            },
            Self::Unbound(secret) => BoundSecret {
                secret: SecretString::from(secret),
                token_endpoint: None,
            },
        }
    }
}

fn secret_name(state: &AppState, tid: &TenantId) -> String {
    state
        .secrets()
        .tenant_secret_name(tid.as_str(), crate::secrets::SSO_SECRET)
}

async fn read_secrets(state: &AppState, tid: &TenantId) -> Result<StoredSecrets, SecretsError> {
    match state.secrets().get(&secret_name(state, tid)).await {
        Ok(raw) => Ok(serde_json::from_str(raw.expose_secret()).unwrap_or_default()),
        Err(SecretsError::NotFound(_)) => Ok(StoredSecrets::default()),
        Err(e) => Err(e),
    }
}

/// The client secret of the configuration `secret_ref` names, if one is held for
/// `token_endpoint`: from the instance's cache, or read once from Secrets Manager (a new
/// secret is saved under a new reference, so a cached one is never stale). A secret saved for
/// another endpoint is not given out.
pub async fn client_secret(
    state: &AppState,
    tid: &TenantId,
    secret_ref: &str,
    token_endpoint: &str,
) -> Result<Option<SecretString>, SecretsError> {
    let bound = match state.client_secrets.get(tid, secret_ref) {
        Some(b) => Some(b),
        None => {
            let read = read_secrets(state, tid)
                .await?
                .remove(secret_ref)
                .map(StoredSecret::bound);
            if let Some(b) = &read {
                state.client_secrets.keep(tid, secret_ref, b);
            }
            read
        }
    };
    Ok(bound.and_then(|b| b.for_endpoint(token_endpoint).cloned()))
}

/// Stores the secret of a new configuration, bound to its token endpoint, under a fresh
/// reference and returns it; `secret: None` keeps the secret of the configuration it replaces
/// (`previous`) if that one was saved for the same endpoint. `None` when there is no secret
/// for this endpoint. Secrets of configurations other than `keep` are dropped.
pub async fn store_secret(
    state: &AppState,
    tid: &TenantId,
    secret: Option<&SecretString>,
    previous: Option<&str>,
    keep: &[&str],
    token_endpoint: &str,
) -> Result<Option<String>, SecretsError> {
    let mut stored = read_secrets(state, tid).await?;
    let value = match secret {
        Some(s) => Some(s.expose_secret().to_owned()),
        None => previous
            .and_then(|p| stored.get(p).cloned())
            .map(StoredSecret::bound)
            .and_then(|b| {
                b.for_endpoint(token_endpoint)
                    .map(|s| s.expose_secret().to_owned())
            }),
    };
    let Some(value) = value else {
        return Ok(None);
    };
    let reference = random_token(&mut rand::rngs::OsRng);
    stored.retain(|k, _| keep.contains(&k.as_str()));
    stored.insert(
        reference.clone(),
        StoredSecret::Bound {
            secret: value,
            token_endpoint: token_endpoint.to_owned(),
        },
    );
    let json = SecretString::from(serde_json::to_string(&stored).unwrap_or_default());
    state.secrets().put(&secret_name(state, tid), &json).await?;
    Ok(Some(reference))
}

/// The redirect URI segment of a new configuration (256 random bits).
pub fn new_callback_ref() -> String {
    random_token(&mut rand::rngs::OsRng)
}

fn random_token(rng: &mut impl RngCore) -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A sign-in at `config`'s provider: the state is stored (single use, ten minutes), and the
/// answer is the provider's authorization URL and the cookie that binds it to this browser.
pub async fn begin(
    state: &AppState,
    tenant: &TenantId,
    config: &IdpConfig,
    purpose: SsoPurpose,
    login_hint: Option<&str>,
) -> Result<(String, HeaderValue), StoreError> {
    let mut rng = rand::rngs::OsRng;
    let (st, nonce, verifier) = (
        random_token(&mut rng),
        random_token(&mut rng),
        random_token(&mut rng),
    );
    let challenge = pkce_challenge(&verifier);
    state
        .store
        .put_sso_state(&SsoState {
            state_hash: state_hash(&st),
            tenant: tenant.clone(),
            purpose,
            issuer: config.provider.issuer.clone(),
            callback_ref: config.callback_ref.clone(),
            nonce: nonce.clone(),
            challenge: challenge.clone(),
            created_at: Timestamp::now(),
        })
        .await?;
    let redirect_uri = state.config.link(&config.callback_path());
    let url = oidc::authorization_url(
        &config.provider,
        &AuthorizationRequest {
            client_id: &config.client_id,
            redirect_uri: &redirect_uri,
            state: &st,
            nonce: &nonce,
            challenge: &challenge,
            login_hint,
        },
    );
    let lifetime = crate::domain::sso::STATE_LIFETIME_SECS;
    let cookie = crate::http::cookies::Cookie::SsoBinding.set(&state.config, &verifier, lifetime);
    Ok((url, cookie))
}

/// Whether `method` is one that signs in at a provider.
pub fn is_federated(method: SsoMethod) -> bool {
    method != SsoMethod::Porter
}

/// The tenant and provider an address signs in with: the provider of the tenant that verified
/// the address's domain, when its active configuration names the domain. Depends on the
/// domain only, never on whether the address exists (nor on which tenant it belongs to).
pub async fn route_for(
    state: &AppState,
    email: &crate::domain::Email,
) -> Result<Option<(TenantId, IdpConfig)>, StoreError> {
    let domain = email.domain();
    let Some(tid) = state.store.tenant_for_domain(domain).await? else {
        return Ok(None);
    };
    let (sso, _) = state.store.get_sso(&tid).await?;
    Ok(sso.route(domain).cloned().map(|c| (tid, c)))
}
