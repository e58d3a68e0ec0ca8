//! `GET /api/config/sso` (the configurations, never the secret) and `POST /api/config/sso/test` (the admin's own sign-in through the pending provider).

use lambda_http::http::{header, StatusCode};
use porter_shared::auth::access;
use porter_shared::domain::SessionRecord;
use porter_shared::domain::{IdpConfig, SsoPurpose, TenantSso};
use porter_shared::http::{json, ApiError, HandlerResult, Request};
use porter_shared::sso;
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;
use serde_json::{json as j, Value};

fn config_view(c: &IdpConfig) -> Value {
    j!({
        "method": c.method.as_str(),
        "client_id": c.client_id,
        "discovery_url": c.discovery_url,
        "directory_id": c.directory_id,
        "issuer": c.provider.issuer,
        "domains": c.domains,
        "mfa_after_sso": c.mfa_after_sso,
    })
}

/// The configuration as the page shows it: the newest one at the top level (the pending one
/// while it awaits its test), both in full below, and never a secret — only whether one is held.
pub(crate) async fn view(
    state: &AppState,
    tenant: &porter_shared::domain::TenantId,
    sso: &TenantSso,
) -> Result<Value, ApiError> {
    let shown = sso.pending.as_ref().or(sso.active.as_ref());
    let status = match (&sso.pending, &sso.active) {
        (Some(_), _) => "pending",
        _ => "active",
    };
    let has_secret = match shown {
        Some(c) => sso::client_secret(state, tenant, &c.secret_ref)
            .await?
            .is_some(),
        None => false,
    };
    let mut v = match shown {
        Some(c) => config_view(c),
        None => j!({
            "method": "porter", "client_id": null, "discovery_url": null, "directory_id": null,
            "issuer": null, "domains": [], "mfa_after_sso": false,
        }),
    };
    v["status"] = j!(status);
    v["has_secret"] = j!(has_secret);
    v["redirect_uri"] = j!(state.config.link(sso::CALLBACK_PATH));
    v["sign_in_method"] = j!(sso.active.as_ref().map_or("porter", |c| c.method.as_str()));
    v["active"] = sso.active.as_ref().map_or(Value::Null, config_view);
    v["pending"] = sso.pending.as_ref().map_or(Value::Null, config_view);
    v["updated_at"] = j!(sso.updated_at.map(|t| t.to_rfc3339()));
    v["updated_by"] = j!(sso.updated_by);
    Ok(v)
}

pub(crate) async fn get(state: &AppState, req: &Request) -> HandlerResult {
    let with_sso = |s: &SessionRecord| Fetch::default().sso(&s.tenant);
    let admin = access::admin_with(state, req, true, with_sso).await?;
    let (sso, _) = admin.caller.more.sso.clone().unwrap_or_default();
    Ok(json(
        StatusCode::OK,
        &view(state, &admin.tenant.id, &sso).await?,
    ))
}

/// `POST /api/config/sso/test`: the admin's own sign-in through the pending provider.
pub(crate) async fn test(state: &AppState, req: &Request) -> HandlerResult {
    let with_sso = |s: &SessionRecord| Fetch::default().sso(&s.tenant);
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
    let mut resp = json(StatusCode::OK, &j!({ "redirect": redirect }));
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}
