//! `PUT /api/config/sso`: checks everything first, then stores the secret in Secrets Manager
//! and the configuration (pending until tested) with its domains in one transaction.

use crate::view::view;
use lambda_http::http::StatusCode;
use porter_shared::auth::access::{self, Admin};
use porter_shared::auth::second_factor::require_recent_proof;
use porter_shared::domain::sso::{is_public_mail_domain, parse_domain};
use porter_shared::domain::SessionRecord;
use porter_shared::domain::{Action, AuditEvent, IdpConfig, SsoMethod, Timestamp};
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
    #[serde(default)]
    mfa_after_sso: bool,
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

/// Each domain: well-formed, not a public mail service, and the address domain of at least
/// one person in this organisation.
async fn check_domains(
    state: &AppState,
    admin: &Admin,
    raw: &[String],
) -> Result<Vec<String>, ApiError> {
    let users = state.store.list_users(&admin.tenant.id).await?;
    let mut domains = Vec::new();
    for r in raw {
        let d = parse_domain(r).ok_or_else(|| {
            bad(
                "invalid_domain",
                format!("{r:?} is not a domain name like acme.com."),
            )
        })?;
        if is_public_mail_domain(&d) {
            return Err(unprocessable(
                "domain_not_allowed",
                format!("{d} is a public mail service; only your organisation's own domains can be routed to your identity provider."),
            ));
        }
        if !users.iter().any(|u| u.email.domain() == d) {
            return Err(unprocessable(
                "domain_not_allowed",
                format!("No one in your organisation has an address at {d}. Add a user with that domain first."),
            ));
        }
        if !domains.contains(&d) {
            domains.push(d);
        }
    }
    Ok(domains)
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
    let with_sso = |s: &SessionRecord| Fetch::default().sso(&s.tenant);
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
    let (next, audit_action) = if method == SsoMethod::Porter {
        // Back to passwords, at once: nothing can lock anyone out of a password sign-in.
        (previous.disabled(&by, now), Action::SsoDisable)
    } else {
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
        for d in &domains {
            if let Some(owner) = state.store.tenant_for_domain(d).await? {
                if owner != tid {
                    return Err(domain_taken(d));
                }
            }
        }
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
        });
        if secret.is_none() && replaced.is_some() && !same_client {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "secret_required",
                "Enter the client secret again: a stored secret is only sent to the provider and client it was saved for.",
            ));
        }
        let active_ref = previous.active.as_ref().map(|c| c.secret_ref.as_str());
        let secret_ref = sso::store_secret(
            state,
            &tid,
            secret.as_ref(),
            replaced.map(|c| c.secret_ref.as_str()),
            &active_ref.into_iter().collect::<Vec<_>>(),
        )
        .await?
        .ok_or_else(|| {
            bad(
                "invalid_request",
                "The request is invalid: client_secret is required.",
            )
        })?;
        let config = IdpConfig {
            method,
            client_id,
            discovery_url,
            directory_id,
            domains,
            mfa_after_sso: body.mfa_after_sso,
            provider,
            secret_ref,
        };
        (previous.proposed(config, &by, now), Action::SsoConfigure)
    };
    let audit = AuditEvent::by(&admin.caller.user, audit_action, None, &client_ip(req))
        .target_text(method.as_str().to_owned());
    match state
        .store
        .save_sso(
            &tid,
            &previous,
            &next,
            version,
            &audit,
            &mut rand::rngs::OsRng,
        )
        .await
    {
        Ok(()) => {}
        Err(SsoSaveError::DomainTaken(d)) => return Err(domain_taken(&d)),
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

fn domain_taken(d: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "domain_taken",
        format!("{d} is already routed to another organisation's sign-in."),
    )
}
