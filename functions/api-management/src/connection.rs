//! `GET|PUT /api/config/platform`: the platform connection (hostname, client id, key id, token endpoint; the key and certificate kept in Secrets Manager, never shown back).

use lambda_http::http::StatusCode;
use porter_shared::auth::access;
use porter_shared::auth::second_factor::require_recent_proof;
use porter_shared::credentials::platform_key::{self, KeyError};
use porter_shared::domain::address::is_https_or_loopback;
use porter_shared::domain::platform::parse_hostname;
use porter_shared::domain::platform::{CertificateInfo, KeyInfo};
use porter_shared::domain::SessionOwner;
use porter_shared::domain::{Action, PlatformConfig, TenantId, Timestamp};
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::platform::{self, KeyMaterial};
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The connection as the page shows it: what the key and certificate are, never the key.
#[derive(Serialize)]
pub struct ConnectionView<'a> {
    configured: bool,
    hostname: Option<&'a str>,
    client_id: Option<&'a str>,
    kid: Option<&'a str>,
    token_endpoint: Option<&'a str>,
    key: Option<&'a KeyInfo>,
    certificate: Option<&'a CertificateInfo>,
    updated_at: Option<String>,
    updated_by: Option<&'a str>,
}

pub fn view(config: Option<&PlatformConfig>) -> ConnectionView<'_> {
    ConnectionView {
        configured: config.is_some(),
        hostname: config.map(|c| c.hostname.as_str()),
        client_id: config.map(|c| c.client_id.as_str()),
        kid: config.map(|c| c.kid.as_str()),
        token_endpoint: config.and_then(|c| c.token_endpoint.as_deref()),
        key: config.map(|c| &c.key),
        certificate: config.and_then(|c| c.certificate.as_ref()),
        updated_at: config.map(|c| c.updated_at.to_rfc3339()),
        updated_by: config.map(|c| c.updated_by.as_str()),
    }
}

pub(crate) async fn get(state: &AppState, req: &Request) -> HandlerResult {
    let with_platform = |s: &SessionOwner| Fetch::default().platform(&s.tenant);
    let admin = access::admin_with(state, req, true, with_platform).await?;
    let config = admin.caller.more.platform;
    Ok(json(StatusCode::OK, &view(config.as_ref())))
}

/// No `Debug`: it holds a private key and its password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformRequest {
    hostname: String,
    client_id: String,
    kid: String,
    private_key_pem: Option<String>,
    private_key_password: Option<String>,
    certificate_pem: Option<String>,
    token_endpoint: Option<String>,
}

fn key_error(e: KeyError) -> ApiError {
    let unprocessable =
        |code, message: String| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    match e {
        KeyError::PasswordWrong => unprocessable(
            "key_password_wrong",
            "The password does not open this private key.".into(),
        ),
        KeyError::PasswordNotNeeded => unprocessable(
            "password_not_needed",
            "This private key is not encrypted: leave the password empty.".into(),
        ),
        KeyError::CertificateMismatch => unprocessable(
            "certificate_mismatch",
            "The certificate is not for this private key.".into(),
        ),
        KeyError::CertificateExpired(at) => unprocessable(
            "certificate_expired",
            format!("The certificate expired on {at}."),
        ),
        KeyError::Invalid { field, why } => {
            unprocessable("key_invalid", format!("{field}: {why}."))
        }
    }
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

pub(crate) async fn put(state: &AppState, req: &Request) -> HandlerResult {
    let with_platform = |s: &SessionOwner| Fetch::default().platform(&s.tenant);
    let mut admin = access::admin_with(state, req, true, with_platform).await?;
    // Who can point the platform connection elsewhere can have the tenant's key sign for
    // another server: like a change of factors, it needs a recent second-factor proof.
    require_recent_proof(&admin.caller, Timestamp::now())?;
    let previous = admin.caller.more.platform.take();
    let body: PlatformRequest = parse_json(req)?;
    let hostname = parse_hostname(&body.hostname).ok_or_else(|| {
        bad("invalid_hostname", "The hostname is a host name with an optional port, like platform.example.com or platform.example.com:8443 — no https://, path or user.")
    })?;
    let client_id = body.client_id.trim().to_owned();
    let kid = body.kid.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 200 || kid.is_empty() || kid.len() > 200 {
        return Err(bad(
            "invalid_request",
            "The request is invalid: client_id and kid are required (at most 200 characters).",
        ));
    }
    let token_endpoint = nonempty(body.token_endpoint);
    if let Some(t) = &token_endpoint {
        let ok = url_ok(t, state.config.allow_loopback);
        if !ok {
            return Err(bad(
                "invalid_token_endpoint",
                "The token endpoint must be an https:// URL.",
            ));
        }
    }
    let tid = admin.tenant.id.clone();
    let now = Timestamp::now();
    let new_key = nonempty(body.private_key_pem);
    // The stored key signs only for the host, token endpoint and client it was saved with.
    let moved = previous.as_ref().is_some_and(|p| {
        p.hostname != hostname || p.token_endpoint != token_endpoint || p.client_id != client_id
    });
    if new_key.is_none() && moved {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "key_required",
            "Paste the private key again: the stored key only signs for the hostname, token endpoint and client id it was saved with.",
        ));
    }
    let material = match new_key {
        Some(pem) => KeyMaterial {
            private_key_pem: pem,
            private_key_password: body.private_key_password.filter(|p| !p.is_empty()),
            certificate_pem: nonempty(body.certificate_pem),
        },
        None => stored_material(state, &tid, nonempty(body.certificate_pem)).await?,
    };
    let password = material
        .private_key_password
        .clone()
        .map(SecretString::from);
    let key =
        platform_key::open_key(&material.private_key_pem, password.as_ref()).map_err(key_error)?;
    let certificate = match &material.certificate_pem {
        Some(pem) => Some(platform_key::check_certificate(pem, &key, now).map_err(key_error)?),
        None => None,
    };
    let config = PlatformConfig {
        hostname,
        client_id,
        kid,
        token_endpoint,
        key: key.info,
        certificate,
        updated_at: now,
        updated_by: admin.caller.user.email.to_string(),
    };
    platform::save(state, &tid, &material).await?;
    let audit = admin
        .event(Action::PlatformConfigure, None, &client_ip(req))
        .target_text(config.hostname.clone());
    state
        .store
        .put_platform(&tid, &config, &audit, &mut rand::rngs::OsRng)
        .await?;
    Ok(json(StatusCode::OK, &view(Some(&config))))
}

/// The stored key and password, for a change of hostname or kid (a new certificate may come).
async fn stored_material(
    state: &AppState,
    tid: &TenantId,
    certificate_pem: Option<String>,
) -> Result<KeyMaterial, ApiError> {
    let stored = platform::load(state, tid).await?.ok_or_else(|| {
        bad(
            "invalid_request",
            "The request is invalid: private_key_pem is required the first time.",
        )
    })?;
    Ok(KeyMaterial {
        certificate_pem: certificate_pem.or(stored.certificate_pem),
        ..stored
    })
}

/// The token endpoint is called with the client assertion: https only (plain http to loopback
/// under `PORTER_ALLOW_LOOPBACK`). The address itself is checked again on every call.
fn url_ok(raw: &str, allow_loopback: bool) -> bool {
    let Ok(url) = url::Url::parse(raw) else {
        return false;
    };
    url.username().is_empty() && is_https_or_loopback(&url, allow_loopback)
}
