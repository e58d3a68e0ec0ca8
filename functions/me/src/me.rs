//! `GET /api/me`: who is signed in, their organisation and the menu their role and the licence give.

use lambda_http::http::StatusCode;
use porter_shared::auth::session::authenticate_with;
use porter_shared::domain::{Entitlements, Level, Role, SessionRecord, TenantRecord};
use porter_shared::http::{json, ApiError, Body, Request, Response};
use porter_shared::store::fetch::{Fetch, Fetched};
use porter_shared::AppState;
use serde_json::{json as j, Value};

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

/// Two requests one after the other: the session; then the user, the tenant and what the
/// admin's checklist ticks from (the SSO configuration, the platform connection) together.
pub(crate) async fn me(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let checklist_items = |s: &SessionRecord| Fetch::default().sso(&s.tenant).platform(&s.tenant);
    let caller = authenticate_with(state, req, Level::Full, checklist_items).await?;
    let Some(role) = caller.user.role else {
        return Err(porter_shared::auth::access::no_role());
    };
    let tenant = caller
        .tenant
        .as_ref()
        .ok_or_else(porter_shared::auth::session::unauthenticated)?;
    let checklist = (role == Role::Admin).then(|| checklist(&caller.more, tenant));
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

/// The admin's setup checklist, each step ticked from what is stored.
fn checklist(stored: &Fetched, tenant: &TenantRecord) -> Value {
    let sso_chosen = stored
        .sso
        .as_ref()
        .is_some_and(|(sso, _)| sso.updated_at.is_some());
    let platform = stored.platform.as_ref();
    let step = |id: &str, label: &str, done: bool, href: &str| j!({ "id": id, "label": label, "done": done, "href": href });
    j!([
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
            sso_chosen,
            "/app/configuration/sso"
        ),
        step(
            "users",
            "Invite your users",
            tenant.user_count > 1,
            "/app/configuration/users"
        ),
    ])
}
