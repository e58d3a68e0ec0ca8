//! `GET /api/config/sso` (the configurations, never the secret) and `POST /api/config/sso/test` (the admin's own sign-in through the pending provider).

use lambda_http::http::{header, StatusCode};
use porter_shared::auth::access;
use porter_shared::domain::SessionOwner;
use porter_shared::domain::{IdpConfig, SecondFactorPolicy, SsoPurpose, TenantSso};
use porter_shared::http::{json, ApiError, HandlerResult, Request};
use porter_shared::sso;
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;
use serde::Serialize;

/// One configuration as the page shows it: never its secret.
#[derive(Serialize)]
pub(crate) struct ConfigView<'a> {
    method: &'static str,
    client_id: Option<&'a str>,
    discovery_url: Option<&'a str>,
    directory_id: Option<&'a str>,
    issuer: Option<&'a str>,
    domains: &'a [String],
    /// Where the provider sends people back: this configuration's own path.
    redirect_uri: Option<String>,
    second_factor: Option<&'static str>,
    /// The older switch, for clients that still read it: `second_factor` is `always`.
    mfa_after_sso: bool,
}

impl<'a> ConfigView<'a> {
    fn of(state: &AppState, c: &'a IdpConfig) -> Self {
        Self {
            method: c.method.as_str(),
            client_id: Some(&c.client_id),
            discovery_url: Some(&c.discovery_url),
            directory_id: c.directory_id.as_deref(),
            issuer: Some(&c.provider.issuer),
            domains: &c.domains,
            redirect_uri: Some(state.config.link(&c.callback_path())),
            second_factor: Some(c.second_factor.as_str()),
            mfa_after_sso: c.second_factor == SecondFactorPolicy::Always,
        }
    }

    /// What a tenant without a provider shows: Porter's own sign-in.
    fn porter() -> Self {
        Self {
            method: "porter",
            client_id: None,
            discovery_url: None,
            directory_id: None,
            issuer: None,
            domains: &[],
            redirect_uri: None,
            second_factor: None,
            mfa_after_sso: false,
        }
    }
}

/// The configuration as the page shows it: the newest one at the top level (the pending one
/// while it awaits its test), both in full below, and never a secret — only whether one is held.
#[derive(Serialize)]
pub(crate) struct SsoView<'a> {
    #[serde(flatten)]
    shown: ConfigView<'a>,
    status: &'static str,
    has_secret: bool,
    sign_in_method: &'static str,
    active: Option<ConfigView<'a>>,
    pending: Option<ConfigView<'a>>,
    updated_at: Option<String>,
    updated_by: Option<&'a str>,
}

pub(crate) async fn view<'a>(
    state: &AppState,
    tenant: &porter_shared::domain::TenantId,
    sso: &'a TenantSso,
) -> Result<SsoView<'a>, ApiError> {
    let shown = sso.pending.as_ref().or(sso.active.as_ref());
    let status = match (&sso.pending, &sso.active) {
        (Some(_), _) => "pending",
        _ => "active",
    };
    let has_secret = match shown {
        Some(c) => sso::client_secret(state, tenant, &c.secret_ref, &c.provider.token_endpoint)
            .await?
            .is_some(),
        None => false,
    };
    Ok(SsoView {
        shown: shown.map_or_else(ConfigView::porter, |c| ConfigView::of(state, c)),
        status,
        has_secret,
        sign_in_method: sso.active.as_ref().map_or("porter", |c| c.method.as_str()),
        active: sso.active.as_ref().map(|c| ConfigView::of(state, c)),
        pending: sso.pending.as_ref().map(|c| ConfigView::of(state, c)),
        updated_at: sso.updated_at.map(|t| t.to_rfc3339()),
        updated_by: sso.updated_by.as_deref(),
    })
}

pub(crate) async fn get(state: &AppState, req: &Request) -> HandlerResult {
    let with_sso = |s: &SessionOwner| Fetch::default().sso(&s.tenant);
    let admin = access::admin_with(state, req, true, with_sso).await?;
    let (sso, _) = admin.caller.more.sso.clone().unwrap_or_default();
    Ok(json(
        StatusCode::OK,
        &view(state, &admin.tenant.id, &sso).await?,
    ))
}

/// `POST /api/config/sso/test`: the admin's own sign-in through the pending provider.
pub(crate) async fn test(state: &AppState, req: &Request) -> HandlerResult {
    let with_sso = |s: &SessionOwner| Fetch::default().sso(&s.tenant);
    let mut admin = access::admin_with(state, req, true, with_sso).await?;
    let (sso, _) = admin.caller.more.sso.take().unwrap_or_default();
    let Some(pending) = sso.pending else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "nothing_to_test",
            "There is no new single sign-on configuration to test. Save one first.",
        ));
    };
    let user = &admin.caller.user;
    let (redirect, cookie) = sso::begin(
        state,
        &admin.tenant.id,
        &pending,
        SsoPurpose::Test {
            admin: user.id.clone(),
        },
        Some(user.email.as_str()),
    )
    .await?;
    let mut resp = json(StatusCode::OK, &TestStarted { redirect });
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// Where the admin's browser goes for the test sign-in.
#[derive(Serialize)]
struct TestStarted {
    redirect: String,
}
