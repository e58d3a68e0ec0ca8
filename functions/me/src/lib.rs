//! `me`: `GET /api/me`, who is signed in and what their menu holds. Needs a full session.

use lambda_http::http::StatusCode;
use porter_shared::auth::session::authenticate;
use porter_shared::domain::{Entitlements, Level, Role};
use porter_shared::http::{json, ApiError, Body, Request, Response, Routes};
use porter_shared::AppState;
use serde_json::{json as j, Value};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| Routes::new().get("/api/me", me));
    ROUTES.serve(state, req).await
}

/// The menu a role sees: the dashboard, the solutions (and their modules) the last license
/// check entitled the tenant to, and Configuration (users, API management, SSO, audit) for
/// admins only.
pub fn menu(role: Role, entitlements: Option<&Entitlements>) -> Vec<Value> {
    let mut items = vec![j!({ "id": "dashboard", "label": "Dashboard", "href": "/app" })];
    for s in entitlements
        .map(|e| e.solutions.as_slice())
        .unwrap_or_default()
    {
        let href = format!("/app/solutions/{}", s.id);
        items.push(j!({
            "id": format!("solution:{}", s.id), "label": s.name, "href": href,
            "children": s.modules.iter().map(|m| j!({
                "id": format!("module:{}:{}", s.id, m.id), "label": m.name,
                "href": format!("{href}/{}", m.id),
            })).collect::<Vec<_>>(),
        }));
    }
    if role == Role::Admin {
        items.push(j!({
            "id": "configuration", "label": "Configuration", "href": "/app/configuration",
            "children": [
                { "id": "users", "label": "Users", "href": "/app/configuration/users" },
                { "id": "api", "label": "API management", "href": "/app/configuration/api" },
                { "id": "sso", "label": "Single sign-on", "href": "/app/configuration/sso" },
                { "id": "signin", "label": "Sign-in", "href": "/app/configuration/signin" },
                { "id": "audit", "label": "Audit log", "href": "/app/configuration/audit" },
            ],
        }));
    }
    items
}

async fn me(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let caller = authenticate(state, req, Level::Full).await?;
    let Some(role) = caller.user.role else {
        return Err(porter_shared::auth::access::no_role());
    };
    let tenant = state
        .store
        .get_tenant(&caller.user.tenant)
        .await?
        .ok_or_else(porter_shared::auth::session::unauthenticated)?;
    let checklist = if role == Role::Admin {
        Some(checklist(state, &tenant).await?)
    } else {
        None
    };
    Ok(json(
        StatusCode::OK,
        &j!({
            "user": { "id": caller.user.id, "email": caller.user.email, "role": role, "role_label": role.label() },
            "tenant": { "id": tenant.id, "name": tenant.display_name(), "setup_done": tenant.setup_done },
            "menu": menu(role, tenant.entitlements.as_ref()),
            "checklist": checklist,
        }),
    ))
}

/// The admin's setup checklist, each step ticked from what is stored (the two reads it needs
/// run together).
async fn checklist(
    state: &AppState,
    tenant: &porter_shared::domain::TenantRecord,
) -> Result<serde_json::Value, ApiError> {
    let (sso, platform) = tokio::join!(
        state.store.get_sso(&tenant.id),
        state.store.get_platform(&tenant.id)
    );
    let (sso, _) = sso?;
    let platform = platform?;
    let step = |id: &str, label: &str, done: bool, href: &str| j!({ "id": id, "label": label, "done": done, "href": href });
    Ok(j!([
        step(
            "organisation",
            "Name your organisation",
            tenant.setup_done,
            "/app/setup"
        ),
        step(
            "api",
            "Connect to the platform (API management)",
            platform.is_some(),
            "/app/configuration/api"
        ),
        step(
            "license",
            "Check your license",
            tenant.entitlements.is_some(),
            "/app/configuration/api"
        ),
        step(
            "sso",
            "Choose how people sign in (single sign-on, or skip it)",
            sso.updated_at.is_some(),
            "/app/configuration/sso"
        ),
        step(
            "users",
            "Invite your users",
            tenant.user_count > 1,
            "/app/configuration/users"
        ),
    ]))
}
