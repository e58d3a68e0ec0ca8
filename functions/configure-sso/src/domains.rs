//! Verified domains: an organisation proves an email domain is its own before any address
//! there is routed to its provider.
//!
//! - `GET /api/config/sso/domains` → `{domains:[…]}`
//! - `POST /api/config/sso/domains {domain}` → 201, the TXT record to publish (200 with the same
//!   record when the organisation already holds the domain); public mail services are refused
//! - `POST /api/config/sso/domains/{domain}/verify` → 200 `{status:"verified"}` when a TXT
//!   record at `_porter-challenge.<domain>` holds the value; 422 `domain_unverified` saying what
//!   the lookup found; 409 `domain_taken` when another organisation verified it first
//! - `DELETE /api/config/sso/domains/{domain}` → 204; 409 `domain_in_use` while the single
//!   sign-on configuration names it
//!
//! Any number of organisations may hold a challenge for one domain; one can verify it.

use lambda_http::http::StatusCode;
use porter_shared::auth::access::{self, Admin};
use porter_shared::dns::{self, DnsError};
use porter_shared::domain::sso::{is_public_mail_domain, parse_domain, txt_name};
use porter_shared::domain::{Action, AuditEvent, DomainClaim, SessionOwner, Timestamp, VerifiedBy};
use porter_shared::http::{client_ip, empty, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::store::domains::DomainError;
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;
use serde::{Deserialize, Serialize};

/// One domain as the page shows it.
#[derive(Serialize)]
struct DomainView<'a> {
    domain: &'a str,
    status: &'static str,
    verified_by: Option<&'static str>,
    txt_name: String,
    txt_value: &'a str,
    verified_at: Option<String>,
    created_at: String,
}

impl<'a> DomainView<'a> {
    fn of(c: &'a DomainClaim) -> Self {
        Self {
            domain: &c.domain,
            status: if c.is_verified() {
                "verified"
            } else {
                "unverified"
            },
            verified_by: c.verified.map(|(by, _)| by.as_str()),
            txt_name: txt_name(&c.domain),
            txt_value: &c.txt_value,
            verified_at: c.verified.map(|(_, at)| at.to_rfc3339()),
            created_at: c.created_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize)]
struct DomainList<'a> {
    domains: Vec<DomainView<'a>>,
}

pub(crate) async fn list(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    let claims = state.store.list_domains(&admin.tenant.id).await?;
    let domains = claims.iter().map(DomainView::of).collect();
    Ok(json(StatusCode::OK, &DomainList { domains }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddRequest {
    domain: String,
}

fn unprocessable(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// A domain as typed: well-formed and not a public mail service.
pub(crate) fn own_domain(raw: &str) -> Result<String, ApiError> {
    let d = parse_domain(raw).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_domain",
            format!("{raw:?} is not a domain name like acme.com."),
        )
    })?;
    if is_public_mail_domain(&d) {
        return Err(unprocessable(
            "domain_not_allowed",
            format!("{d} is a public mail service; only your organisation's own domains can be routed to your identity provider."),
        ));
    }
    Ok(d)
}

pub(crate) async fn add(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    let body: AddRequest = parse_json(req)?;
    let domain = own_domain(&body.domain)?;
    let tid = &admin.tenant.id;
    let mut rng = rand::rngs::OsRng;
    let claim = DomainClaim::new(&domain, &mut rng, Timestamp::now());
    let audit = event(&admin, req, Action::DomainAdd, &domain);
    if !state
        .store
        .add_domain(tid, &claim, &audit, &mut rng)
        .await?
    {
        // Already held: the same record again, and nothing written.
        return match state.store.get_domain_claim(tid, &domain).await? {
            Some(held) => Ok(json(StatusCode::OK, &DomainView::of(&held))),
            None => Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "The domain changed meanwhile. Reload and try again.",
            )),
        };
    }
    Ok(json(StatusCode::CREATED, &DomainView::of(&claim)))
}

fn event(admin: &Admin, req: &Request, action: Action, domain: &str) -> AuditEvent {
    admin.event(action, None, &client_ip(req)).detail(domain)
}

fn not_found(domain: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "domain_not_found",
        format!("{domain} is not one of your organisation's domains. Add it first."),
    )
}

/// The claim a path names, of the caller's organisation.
async fn claim_of(state: &AppState, admin: &Admin, raw: &str) -> Result<DomainClaim, ApiError> {
    let domain = parse_domain(raw).ok_or_else(|| not_found(raw))?;
    state
        .store
        .get_domain_claim(&admin.tenant.id, &domain)
        .await?
        .ok_or_else(|| not_found(&domain))
}

#[derive(Serialize)]
struct Verified<'a> {
    status: &'static str,
    #[serde(flatten)]
    domain: DomainView<'a>,
}

pub(crate) async fn verify(state: &AppState, req: &Request, raw: String) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    let claim = claim_of(state, &admin, &raw).await?;
    // Verified once is verified: the record may be taken down afterwards.
    if claim.is_verified() {
        return Ok(json(
            StatusCode::OK,
            &Verified {
                status: "verified",
                domain: DomainView::of(&claim),
            },
        ));
    }
    let name = txt_name(&claim.domain);
    let found = match state.dns() {
        Ok(resolver) => dns::txt(resolver, &name).await,
        Err(e) => Err(e),
    };
    let records = match found {
        Ok(records) => records,
        Err(DnsError::NoRecord(_)) => {
            return Err(unverified(format!(
                "There is no TXT record at {name} yet. Publish {} there and try again; new records can take a few minutes to appear.",
                claim.txt_value
            )))
        }
        Err(e @ DnsError::Failed { .. }) => {
            tracing::warn!(error = %e, "domain verification lookup failed");
            return Err(unverified(format!(
                "The DNS lookup of {name} did not answer. Try again in a few minutes."
            )));
        }
    };
    if !claim.proved_by(&records) {
        let n = records.len();
        return Err(unverified(format!(
            "The TXT {} at {name} {} not {}. Publish that value exactly and try again.",
            if n == 1 { "record" } else { "records" },
            if n == 1 { "is" } else { "are" },
            claim.txt_value
        )));
    }
    let audit =
        event(&admin, req, Action::DomainVerify, &claim.domain).outcome(VerifiedBy::Dns.as_str());
    let verified = state
        .store
        .verify_domain(
            &admin.tenant.id,
            &claim,
            VerifiedBy::Dns,
            Timestamp::now(),
            &audit,
            &mut rand::rngs::OsRng,
        )
        .await
        .map_err(|e| domain_error(&claim.domain, e))?;
    Ok(json(
        StatusCode::OK,
        &Verified {
            status: "verified",
            domain: DomainView::of(&verified),
        },
    ))
}

fn unverified(message: String) -> ApiError {
    unprocessable("domain_unverified", message)
}

fn domain_error(domain: &str, e: DomainError) -> ApiError {
    match e {
        DomainError::Taken => ApiError::new(
            StatusCode::CONFLICT,
            "domain_taken",
            format!("Another organisation has already verified {domain}. Contact support if it is yours."),
        ),
        DomainError::InUse => ApiError::new(
            StatusCode::CONFLICT,
            "domain_in_use",
            format!("Single sign-on uses {domain}. Remove it from the configuration first."),
        ),
        DomainError::NotFound => not_found(domain),
        DomainError::Store(e) => e.into(),
    }
}

pub(crate) async fn remove(state: &AppState, req: &Request, raw: String) -> HandlerResult {
    let with_sso = |s: &SessionOwner| Fetch::default().sso(&s.tenant);
    let mut admin = access::admin_with(state, req, true, with_sso).await?;
    let (sso, version) = admin.caller.more.sso.take().unwrap_or_default();
    let claim = claim_of(state, &admin, &raw).await?;
    if sso.uses_domain(&claim.domain) {
        return Err(domain_error(&claim.domain, DomainError::InUse));
    }
    let audit = event(&admin, req, Action::DomainRemove, &claim.domain);
    state
        .store
        .remove_domain(
            &admin.tenant.id,
            &claim,
            version,
            &audit,
            &mut rand::rngs::OsRng,
        )
        .await
        .map_err(|e| domain_error(&claim.domain, e))?;
    Ok(empty(StatusCode::NO_CONTENT))
}
