//! The platform's side of a check (described in `platform-api.yaml`): RFC 8414 metadata for
//! the token endpoint (unless one is configured), the token request with the client
//! assertion, and the entitlements.

use porter_shared::credentials::platform_key::{self, KeyError};
use porter_shared::domain::platform::Solution;
use porter_shared::domain::{PlatformConfig, TenantId, Timestamp};
use porter_shared::outbound::{self, Answer, OutboundError};
use porter_shared::{platform, AppState};
use secrecy::SecretString;
use serde::Deserialize;

pub enum CheckError {
    NotConfigured,
    /// The token endpoint refused: its OAuth error (and description), trimmed.
    AuthFailed(String),
    /// The platform trusts the key but maps its KID to no principal (the KID, as configured).
    NoMapping(String),
    Unavailable(String),
    BadResponse(String),
    Internal(String),
}

impl From<OutboundError> for CheckError {
    fn from(e: OutboundError) -> Self {
        match e {
            OutboundError::TooLarge | OutboundError::BadAnswer(_) => {
                Self::BadResponse(e.to_string())
            }
            other => Self::Unavailable(other.to_string()),
        }
    }
}

/// Text from the platform, made fit to show: control characters dropped, at most 200
/// characters. Not HTML-escaped: it travels in JSON, and the page sets it as text
/// (`textContent`), where an escape would show literally (`&amp;`).
fn shown(raw: &str) -> String {
    let clean: String = raw.chars().filter(|c| !c.is_control()).take(200).collect();
    clean.trim().to_owned()
}

#[derive(Deserialize)]
struct EntitlementsAnswer {
    solutions: Vec<Solution>,
}

/// `config`: the tenant's platform connection as read with the caller.
pub async fn fetch_entitlements(
    state: &AppState,
    tid: &TenantId,
    config: Option<PlatformConfig>,
    now: Timestamp,
) -> Result<Vec<Solution>, CheckError> {
    let internal = |e: &dyn std::fmt::Display| CheckError::Internal(e.to_string());
    let config = config.ok_or(CheckError::NotConfigured)?;
    let material = platform::load(state, tid)
        .await
        .map_err(|e| internal(&e))?
        .ok_or(CheckError::NotConfigured)?;
    let password = material
        .private_key_password
        .clone()
        .map(SecretString::from);
    let key = platform_key::open_key(&material.private_key_pem, password.as_ref())
        .map_err(|e: KeyError| internal(&e))?;
    let base = platform::base_url(&state.config, &config.hostname);
    let allow = state.config.allow_loopback;
    let token_endpoint = match &config.token_endpoint {
        Some(t) => t.clone(),
        None => {
            let meta = outbound::get(
                &outbound::check(
                    &format!("{base}/.well-known/oauth-authorization-server"),
                    allow,
                )
                .await?,
            )
            .await?;
            if meta.status != 200 {
                return Err(CheckError::BadResponse(format!(
                    "the metadata answered HTTP {}",
                    meta.status
                )));
            }
            let doc: serde_json::Value = meta.json()?;
            // RFC 8414 §3.3: the metadata names the server it was fetched from, or it is
            // someone else's (and its token endpoint must not get our assertion).
            if doc["issuer"].as_str() != Some(base.as_str()) {
                return Err(CheckError::BadResponse(format!(
                    "the metadata's issuer is not {base}"
                )));
            }
            doc["token_endpoint"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| {
                    CheckError::BadResponse("the metadata has no token_endpoint".into())
                })?
        }
    };
    let jti = {
        use rand::RngCore;
        let mut b = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut b);
        hex::encode(b)
    };
    let assertion = platform_key::client_assertion(
        &key,
        &config.kid,
        &config.client_id,
        &token_endpoint,
        &jti,
        now,
    )
    .map_err(|e| internal(&e))?;
    let token = outbound::post_form(
        &outbound::check(&token_endpoint, allow).await?,
        &[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
            ("client_id", &config.client_id),
        ],
        None,
    )
    .await?;
    let access_token = access_token(&token, &config.kid)?;
    let answer = outbound::get_authorized(
        &outbound::check(&format!("{base}/api/v1/entitlements"), allow).await?,
        Some(&access_token),
    )
    .await?;
    if answer.status == 401 || answer.status == 403 {
        return Err(CheckError::AuthFailed(format!(
            "the entitlements answered HTTP {}",
            answer.status
        )));
    }
    if answer.status != 200 {
        return Err(CheckError::BadResponse(format!(
            "the entitlements answered HTTP {}",
            answer.status
        )));
    }
    let parsed: EntitlementsAnswer = answer.json()?;
    Ok(parsed.solutions)
}

fn access_token(answer: &Answer, kid: &str) -> Result<String, CheckError> {
    let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
    if answer.status != 200 {
        let unmapped = body["error"] == "unauthorized_client"
            && body["error_description"]
                .as_str()
                .is_some_and(|d| d.starts_with("no JWT principal mapping"));
        if unmapped {
            return Err(CheckError::NoMapping(kid.to_owned()));
        }
        return match body["error"].as_str() {
            Some(error) => {
                let description = body["error_description"].as_str().map(shown);
                Err(CheckError::AuthFailed(match description {
                    Some(d) if !d.is_empty() => format!("{} ({d})", shown(error)),
                    _ => shown(error),
                }))
            }
            None if answer.status >= 500 => Err(CheckError::Unavailable(format!(
                "the token endpoint answered HTTP {}",
                answer.status
            ))),
            None => Err(CheckError::BadResponse(format!(
                "the token endpoint answered HTTP {} without an OAuth error",
                answer.status
            ))),
        };
    }
    body["access_token"]
        .as_str()
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| CheckError::BadResponse("the token answer has no access_token".into()))
}
