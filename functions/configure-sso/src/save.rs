//! `PUT /api/config/sso`: checks everything first, then stores the secret in Secrets Manager
//! and the configuration (pending until tested) with its domains in one transaction.

use crate::domains::own_domain;
use crate::view::view;
use lambda_http::http::StatusCode;
use porter_shared::auth::access::{self, Admin};
use porter_shared::auth::second_factor::require_recent_proof;
use porter_shared::domain::SecondFactorPolicy;
use porter_shared::domain::SessionOwner;
use porter_shared::domain::{Action, IdpConfig, SsoMethod, Timestamp};
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::sso::{self, DiscoveryError};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::sso::SsoSaveError;
use porter_shared::AppState;
use secrecy::SecretString;
use serde::Deserialize;

/// No `Debug`: it may hold the client secret.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SsoRequest {
    method: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    discovery_url: Option<String>,
    directory_id: Option<String>,
    #[serde(default)]
    domains: Vec<String>,
    /// `always` (the default), `unless_provider_mfa` or `never`.
    second_factor: Option<String>,
    /// The older switch: `true` is `always`, `false` is `unless_provider_mfa`.
    mfa_after_sso: Option<bool>,
}

impl SsoRequest {
    fn second_factor(&self) -> Result<SecondFactorPolicy, ApiError> {
        match (&self.second_factor, self.mfa_after_sso) {
            (Some(raw), _) => SecondFactorPolicy::parse(raw).ok_or_else(|| {
                bad(
                    "invalid_second_factor",
                    "second_factor must be \"always\", \"unless_provider_mfa\" or \"never\".",
                )
            }),
            (None, Some(on)) => Ok(SecondFactorPolicy::from_mfa_after_sso(on)),
            (None, None) => Ok(SecondFactorPolicy::Always),
        }
    }
}

fn bad(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, ApiError> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            bad(
                "invalid_request",
                format!("The request is invalid: {name} is required."),
            )
        })
}

/// An Entra ID directory id is a GUID.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Each domain: well-formed, not a public mail service, and verified by this organisation.
async fn check_domains(
    state: &AppState,
    admin: &Admin,
    raw: &[String],
) -> Result<Vec<String>, ApiError> {
    let held = state.store.list_domains(&admin.tenant.id).await?;
    let mut domains = Vec::new();
    for r in raw {
        let d = own_domain(r)?;
        if !held.iter().any(|c| c.domain == d && c.is_verified()) {
            return Err(domain_unverified(&d));
        }
        if !domains.contains(&d) {
            domains.push(d);
        }
    }
    Ok(domains)
}

fn domain_unverified(d: &str) -> ApiError {
    unprocessable(
        "domain_unverified",
        format!("{d} is not a verified domain of your organisation. Add it under Domains and verify it first."),
    )
}

fn discovery_error(e: DiscoveryError) -> ApiError {
    match e {
        DiscoveryError::AddressRefused(why) => unprocessable("idp_address_refused", why),
        DiscoveryError::Invalid(why) => unprocessable(
            "discovery_invalid",
            format!("The identity provider could not be used: {why}."),
        ),
    }
}

pub async fn put(state: &AppState, req: &Request) -> HandlerResult {
    let with_sso = |s: &SessionOwner| Fetch::default().sso(&s.tenant);
    let mut admin = access::admin_with(state, req, true, with_sso).await?;
    // Who can change where sign-in goes can take over every account: like a change of
    // factors, it needs a proof of the second factor from the last five minutes.
    require_recent_proof(&admin.caller, Timestamp::now())?;
    let body: SsoRequest = parse_json(req)?;
    let method = SsoMethod::parse(&body.method).ok_or_else(|| {
        bad(
            "invalid_method",
            "The method must be \"porter\", \"oidc\" or \"entra_id\".",
        )
    })?;
    let tid = admin.tenant.id.clone();
    let (previous, version) = admin.caller.more.sso.take().unwrap_or_default();
    let by = admin.caller.user.email.to_string();
    let now = Timestamp::now();
    let mut events = Vec::new();
    let (next, audit_action) = if method == SsoMethod::Porter {
        // Back to passwords, at once: nothing can lock anyone out of a password sign-in.
        (previous.disabled(&by, now), Action::SsoDisable)
    } else {
        let second_factor = body.second_factor()?;
        let client_id = required(&body.client_id, "client_id")?.to_owned();
        let (discovery_url, directory_id) = match method {
            SsoMethod::EntraId => {
                let dir = required(&body.directory_id, "directory_id")?.to_ascii_lowercase();
                if !is_guid(&dir) {
                    return Err(bad("invalid_directory_id", "The directory (tenant) id is a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47."));
                }
                (sso::entra_discovery_url(&state.config, &dir), Some(dir))
            }
            _ => (
                required(&body.discovery_url, "discovery_url")?.to_owned(),
                None,
            ),
        };
        let domains = check_domains(state, &admin, &body.domains).await?;
        let provider = sso::discover(state, &discovery_url)
            .await
            .map_err(discovery_error)?;
        let secret = body
            .client_secret
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_owned()));
        // Kept: the secret the configuration being replaced had, when none is sent, and only
        // for the same provider and client: a stored secret never follows a changed endpoint.
        let replaced = previous.pending.as_ref().or(previous.active.as_ref());
        let same_client = replaced.is_some_and(|c| {
            c.method == method
                && c.client_id == client_id
                && c.discovery_url == discovery_url
                && c.directory_id == directory_id
                && c.provider.token_endpoint == provider.token_endpoint
        });
        if secret.is_none() && replaced.is_some() && !same_client {
            return Err(secret_required());
        }
        let active_ref = previous.active.as_ref().map(|c| c.secret_ref.as_str());
        let secret_ref = sso::store_secret(
            state,
            &tid,
            secret.as_ref(),
            replaced.map(|c| c.secret_ref.as_str()),
            &active_ref.into_iter().collect::<Vec<_>>(),
            &provider.token_endpoint,
        )
        .await?
        .ok_or_else(|| match replaced {
            Some(_) => secret_required(),
            None => bad(
                "invalid_request",
                "The request is invalid: client_secret is required.",
            ),
        })?;
        // The redirect URI stays while the provider and client do, so that the admin need
        // not register a new one for a change of domains or policy.
        let callback_ref = replaced
            .filter(|c| same_client && !c.callback_ref.is_empty())
            .map_or_else(sso::new_callback_ref, |c| c.callback_ref.clone());
        if replaced.map(|c| c.second_factor) != Some(second_factor) {
            events.push(
                admin
                    .event(Action::SsoSecondFactor, None, &client_ip(req))
                    .outcome(second_factor.as_str()),
            );
        }
        let config = IdpConfig {
            method,
            client_id,
            discovery_url,
            directory_id,
            domains,
            second_factor,
            provider,
            secret_ref,
            callback_ref,
        };
        (previous.proposed(config, &by, now), Action::SsoConfigure)
    };
    events.insert(
        0,
        admin
            .event(audit_action, None, &client_ip(req))
            .target_text(method.as_str().to_owned()),
    );
    match state
        .store
        .save_sso(&tid, &next, version, &events, &mut rand::rngs::OsRng)
        .await
    {
        Ok(()) => {}
        Err(SsoSaveError::DomainUnverified(d)) => return Err(domain_unverified(&d)),
        Err(SsoSaveError::Stale) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "The configuration changed meanwhile. Reload and try again.",
            ))
        }
        Err(SsoSaveError::Store(e)) => return Err(e.into()),
    }
    Ok(json(StatusCode::OK, &view(state, &tid, &next).await?))
}

fn secret_required() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "secret_required",
        "Enter the client secret again: a stored secret is only sent to the provider, client and token endpoint it was saved for.",
    )
}
