//! The vendor platform, the parts its two functions share: the tenant's key material in
//! Secrets Manager (`porter/<stage>/tenant/<tid>/platform`) and the platform's base URL.

use crate::domain::address::is_loopback_host;
use crate::domain::TenantId;
use crate::secrets::SecretsError;
use crate::{AppState, Config};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// What Secrets Manager holds for a tenant's connection. No `Debug`.
#[derive(Serialize, Deserialize)]
pub struct KeyMaterial {
    pub private_key_pem: String,
    pub private_key_password: Option<String>,
    pub certificate_pem: Option<String>,
}

fn secret_name(state: &AppState, tid: &TenantId) -> String {
    state
        .secrets()
        .tenant_secret_name(tid.as_str(), crate::secrets::PLATFORM_SECRET)
}

pub async fn load(state: &AppState, tid: &TenantId) -> Result<Option<KeyMaterial>, SecretsError> {
    match state.secrets().get(&secret_name(state, tid)).await {
        Ok(raw) => Ok(serde_json::from_str(raw.expose_secret()).ok()),
        Err(SecretsError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn save(state: &AppState, tid: &TenantId, m: &KeyMaterial) -> Result<(), SecretsError> {
    let value = SecretString::from(serde_json::to_string(m).unwrap_or_default());
    state.secrets().put(&secret_name(state, tid), &value).await
}

/// `https://<hostname>`; plain http only for loopback hosts when `PORTER_ALLOW_LOOPBACK=true`.
pub fn base_url(config: &Config, hostname: &str) -> String {
    let host = hostname.split(':').next().unwrap_or_default();
    if config.allow_loopback && is_loopback_host(host) {
        format!("http://{hostname}")
    } else {
        format!("https://{hostname}")
    }
}
