//! The operator's workflows, above `invitations` and `sso` (which they both use): registering a
//! tenant with its first admin (with single sign-on set up from the start, if asked),
//! suspending and resuming it, setting its single sign-on, and the break-glass that turns
//! single sign-on off and sends everyone a way back in. porterctl and the dev server call
//! these.

use crate::domain::sso::{IdpConfig, SecondFactorPolicy, SsoMethod};
use crate::domain::{
    Action, AuditEvent, DomainClaim, Email, NewTenant, OneTimeToken, TenantId, Timestamp,
    TokenKind, UserId, VerifiedBy, DEFAULT_MAX_USERS,
};
use crate::invitations::{self, MAX_TENANT_NAME_CHARS};
use crate::mail::MailError;
use crate::secrets::SecretsError;
use crate::sso::{discover, entra_discovery_url, store_secret, DiscoveryError};
use crate::store::domains::DomainError;
use crate::store::tenants::RegisterError;
use crate::store::StoreError;
use crate::AppState;
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum TenantInputError {
    #[error("the tenant name must be 1 to {MAX_TENANT_NAME_CHARS} characters of plain text: no control or direction characters, no web addresses")]
    Name,
    #[error("max users must be between 1 and 1000")]
    MaxUsers,
}

/// Unicode direction overrides and isolates (U+202A–U+202E, U+2066–U+2069): in an email they
/// can make a name read as something else ("Acme" followed by reversed text).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether text carries something a mail client would turn into a link.
fn looks_like_a_link(name: &str) -> bool {
    let lower = name.to_lowercase();
    lower.contains("://") || lower.contains("www.") || lower.contains("mailto:")
}

/// A tenant name as the operator or the admin typed it, trimmed and checked: it is shown in
/// invitations, so it must be plain text that cannot pose as a link or reorder itself.
pub fn parse_tenant_name(raw: &str) -> Result<String, TenantInputError> {
    let name = raw.trim();
    let chars = name.chars().count();
    if chars == 0
        || chars > MAX_TENANT_NAME_CHARS
        || name.chars().any(|c| c.is_control() || is_bidi_control(c))
        || looks_like_a_link(name)
    {
        return Err(TenantInputError::Name);
    }
    Ok(name.to_owned())
}

pub fn parse_max_users(n: u32) -> Result<u32, TenantInputError> {
    if (1..=1000).contains(&n) {
        Ok(n)
    } else {
        Err(TenantInputError::MaxUsers)
    }
}

/// What registering a tenant produced. `mail` is the outcome of the invitation email: the
/// tenant exists either way, and a failed email can be sent again (`porterctl tenant invite`).
pub struct Registration {
    pub tenant: TenantId,
    pub admin: UserId,
    pub activation_link: SecretString,
    pub mail: Result<String, MailError>,
}

/// Journey 1: the tenant, its first admin (invited) and the invitation email.
pub async fn register_tenant(
    state: &AppState,
    name: &str,
    admin_email: &Email,
    max_users: Option<u32>,
    now: Timestamp,
) -> Result<Registration, RegisterError> {
    register_tenant_with_sso(state, name, admin_email, max_users, None, now).await
}

/// Journey 1 with single sign-on pre-configured by the operator (checked beforehand with
/// [`check_operator_config`]): the configuration is active before the invitation goes
/// out, so the first admin is invited to sign in with their company account.
pub async fn register_tenant_with_sso(
    state: &AppState,
    name: &str,
    admin_email: &Email,
    max_users: Option<u32>,
    sso: Option<(crate::domain::IdpConfig, SecretString)>,
    now: Timestamp,
) -> Result<Registration, RegisterError> {
    let mut rng = rand::rngs::OsRng;
    let token = OneTimeToken::generate(TokenKind::Activation, now, &mut rng);
    let tenant = NewTenant {
        id: TenantId::generate(&mut rng),
        name: name.to_owned(),
        max_users: max_users.unwrap_or(DEFAULT_MAX_USERS),
        admin_id: UserId::generate(&mut rng),
        admin_email: admin_email.clone(),
        invitation: &token,
        now,
    };
    let audit = AuditEvent::by_operator(
        &tenant.id,
        Action::TenantCreate,
        Some(tenant.admin_id.to_string()),
    );
    state
        .store
        .register_tenant(&tenant, &audit, &mut rng)
        .await?;
    if let Some((config, secret)) = sso {
        activate_operator_config(state, &tenant.id, config, &secret)
            .await
            .map_err(|e| RegisterError::Sso(e.to_string()))?;
    }
    let mail = invitations::send_invitation(state, name, admin_email, &token).await;
    if let Err(e) = &mail {
        tracing::error!(tenant = %tenant.id, error = %e, "invitation email failed; the user can be sent a new one");
        invitations::mail_failed(state, &tenant.id, &tenant.admin_id, &token).await;
    }
    Ok(Registration {
        tenant: tenant.id,
        admin: tenant.admin_id,
        activation_link: invitations::activation_link(state, &token),
        mail,
    })
}

/// The operator suspends a tenant: nobody of it can sign in or use a session (every request
/// checks), and every session ends at once. `Ok(Some(n))`: `n` live sessions ended; `Ok(None)`
/// for an unknown tenant.
pub async fn suspend_tenant(state: &AppState, tid: &TenantId) -> Result<Option<usize>, StoreError> {
    let audit = AuditEvent::by_operator(tid, Action::TenantSuspend, None);
    let known = state
        .store
        .set_tenant_status(tid, "suspended", &audit, &mut rand::rngs::OsRng)
        .await?;
    if !known {
        return Ok(None);
    }
    state.store.end_all_sessions(tid).await.map(Some)
}

/// The operator lets a suspended tenant sign in again.
pub async fn resume_tenant(state: &AppState, tid: &TenantId) -> Result<bool, StoreError> {
    let audit = AuditEvent::by_operator(tid, Action::TenantResume, None);
    state
        .store
        .set_tenant_status(tid, "active", &audit, &mut rand::rngs::OsRng)
        .await
}

/// A configuration the operator sets (porterctl, the dev server's demo): active at once, with
/// any domains, since the operator vouches for them.
pub struct OperatorSso {
    pub method: SsoMethod,
    pub client_id: String,
    pub client_secret: SecretString,
    /// OIDC: the discovery URL. Entra ID: `None`, the directory names it.
    pub discovery_url: Option<String>,
    pub directory_id: Option<String>,
    pub domains: Vec<String>,
    pub second_factor: SecondFactorPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum OperatorSsoError {
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Save(#[from] crate::store::sso::SsoSaveError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks the operator's configuration against the provider; nothing is stored.
pub async fn check_operator_config(
    state: &AppState,
    input: &OperatorSso,
) -> Result<IdpConfig, OperatorSsoError> {
    let discovery_url = match (input.method, &input.discovery_url, &input.directory_id) {
        (SsoMethod::Oidc, Some(url), _) => url.clone(),
        (SsoMethod::EntraId, _, Some(dir)) => entra_discovery_url(&state.config, dir),
        _ => {
            return Err(OperatorSsoError::Input(
                "give --discovery-url for OpenID Connect or --entra-directory for Entra ID".into(),
            ))
        }
    };
    let mut domains = Vec::new();
    for d in &input.domains {
        let d = crate::domain::sso::parse_domain(d)
            .ok_or_else(|| OperatorSsoError::Input(format!("{d:?} is not a domain name")))?;
        domains.push(d);
    }
    let provider = discover(state, &discovery_url).await?;
    Ok(IdpConfig {
        method: input.method,
        client_id: input.client_id.clone(),
        discovery_url,
        directory_id: input.directory_id.clone(),
        domains,
        second_factor: input.second_factor,
        provider,
        secret_ref: String::new(),
        callback_ref: crate::sso::new_callback_ref(),
    })
}

/// Stores a checked operator configuration as the one sign-in uses, at once.
pub async fn activate_operator_config(
    state: &AppState,
    tid: &TenantId,
    mut config: IdpConfig,
    secret: &SecretString,
) -> Result<(), OperatorSsoError> {
    let endpoint = config.provider.token_endpoint.clone();
    config.secret_ref = store_secret(state, tid, Some(secret), None, &[], &endpoint)
        .await?
        .unwrap_or_default();
    let method = config.method.as_str().to_owned();
    operator_save(state, tid, Some(config), Action::SsoConfigure, Some(method)).await
}

/// Stores what the operator decided as the configuration sign-in uses (nothing pending). The
/// operator vouches for its domains: each is verified by the operator first.
async fn operator_save(
    state: &AppState,
    tid: &TenantId,
    active: Option<IdpConfig>,
    action: Action,
    target: Option<String>,
) -> Result<(), OperatorSsoError> {
    for d in active.iter().flat_map(|c| c.domains.iter()) {
        verify_domain_by_operator(state, tid, d).await?;
    }
    let (_, version) = state.store.get_sso(tid).await?;
    let next = crate::domain::TenantSso::set_by_operator(active, Timestamp::now());
    let audit = crate::domain::AuditEvent::by_operator(tid, action, target);
    let mut rng = rand::rngs::OsRng;
    state
        .store
        .save_sso(tid, &next, version, &[audit], &mut rng)
        .await?;
    Ok(())
}

/// The operator vouches for a domain of a tenant (`porterctl tenant domain verify`): verified
/// at once, audited, `verified_by: operator`. Refused when another tenant verified it.
pub async fn verify_domain_by_operator(
    state: &AppState,
    tid: &TenantId,
    raw: &str,
) -> Result<DomainClaim, OperatorSsoError> {
    let domain = crate::domain::sso::parse_domain(raw)
        .ok_or_else(|| OperatorSsoError::Input(format!("{raw:?} is not a domain name")))?;
    if crate::domain::sso::is_public_mail_domain(&domain) {
        return Err(OperatorSsoError::Input(format!(
            "{domain} is a public mail service; nobody's sign-in can be routed by it"
        )));
    }
    let now = Timestamp::now();
    let mut rng = rand::rngs::OsRng;
    let claim = match state.store.get_domain_claim(tid, &domain).await? {
        Some(c) => c,
        None => DomainClaim::new(&domain, &mut rng, now),
    };
    let audit = AuditEvent::by_operator(tid, Action::DomainVerify, None)
        .detail(domain.as_str())
        .outcome(VerifiedBy::Operator.as_str());
    state
        .store
        .verify_domain(tid, &claim, VerifiedBy::Operator, now, &audit, &mut rng)
        .await
        .map_err(|e| domain_error(&domain, e))
}

/// The operator releases a tenant's domain (`porterctl tenant domain remove`); refused while
/// its single sign-on names it. `false` when the tenant held no such domain.
pub async fn remove_domain_by_operator(
    state: &AppState,
    tid: &TenantId,
    domain: &str,
) -> Result<bool, OperatorSsoError> {
    let Some(claim) = state.store.get_domain_claim(tid, domain).await? else {
        return Ok(false);
    };
    let (sso, version) = state.store.get_sso(tid).await?;
    if sso.uses_domain(domain) {
        return Err(domain_error(domain, DomainError::InUse));
    }
    let audit = AuditEvent::by_operator(tid, Action::DomainRemove, None).detail(domain);
    let mut rng = rand::rngs::OsRng;
    match state
        .store
        .remove_domain(tid, &claim, version, &audit, &mut rng)
        .await
    {
        Ok(()) => Ok(true),
        Err(DomainError::NotFound) => Ok(false),
        Err(e) => Err(domain_error(domain, e)),
    }
}

fn domain_error(domain: &str, e: DomainError) -> OperatorSsoError {
    match e {
        DomainError::Taken => {
            OperatorSsoError::Input(format!("another organisation verified {domain} first"))
        }
        DomainError::InUse => OperatorSsoError::Input(format!(
            "the organisation's single sign-on routes {domain}: change or disable it first"
        )),
        DomainError::NotFound => {
            OperatorSsoError::Input(format!("{domain} changed meanwhile; try again"))
        }
        DomainError::Store(e) => OperatorSsoError::Store(e),
    }
}

/// The operator's break-glass: the organisation signs in with passwords again, at once. Who
/// never set a password gets a link to set one: a fresh invitation while invited, a reset
/// link once active. Returns the addresses emailed.
pub async fn disable_by_operator(
    state: &AppState,
    tid: &TenantId,
) -> Result<Vec<String>, OperatorSsoError> {
    operator_save(state, tid, None, Action::SsoDisable, None).await?;
    let mut emailed = Vec::new();
    for user in state.store.list_users(tid).await? {
        let sent = match user.status {
            crate::domain::UserStatus::Invited => {
                invitations::reissue_now(state, &user, "operator", "operator", Timestamp::now())
                    .await
                    .is_ok()
            }
            crate::domain::UserStatus::Active => {
                let has_password = state
                    .store
                    .get_user_with_credentials(&user.tenant, &user.id)
                    .await?
                    .is_some_and(|(_, c)| c.password_hash.is_some());
                !has_password && invitations::send_reset(state, &user).await.is_ok()
            }
        };
        if sent {
            emailed.push(user.email.to_string());
        }
    }
    Ok(emailed)
}
