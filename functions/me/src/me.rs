//! `GET /api/me`: who is signed in, their organisation and the menu their role and the licence give.

use lambda_http::http::StatusCode;
use porter_shared::auth::session::authenticate_with;
use porter_shared::domain::organization::may_act_in;
use porter_shared::domain::{
    Entitlements, Level, Role, SessionOwner, TenantKind, TenantRecord, UserRecord,
};
use porter_shared::http::{json, ApiError, Body, Request, Response};
use porter_shared::store::fetch::{Fetch, Fetched};
use porter_shared::AppState;
use serde::Serialize;

/// The menu a role sees: the dashboard, the solutions (and their modules) the last license
/// check entitled the tenant to, and Configuration (users, API management, SSO, audit) for
/// admins only.
pub fn menu(role: Role, entitlements: Option<&Entitlements>) -> Vec<MenuItem> {
    let item = |id: String, label: &str, href: String, children| MenuItem {
        id,
        label: label.to_owned(),
        href,
        children,
    };
    let mut items = vec![item("dashboard".into(), "Dashboard", "/app".into(), None)];
    for s in entitlements
        .map(|e| e.solutions.as_slice())
        .unwrap_or_default()
    {
        let href = format!("/app/solutions/{}", s.id);
        let modules = s
            .modules
            .iter()
            .map(|m| {
                let id = format!("module:{}:{}", s.id, m.id);
                item(id, &m.name, format!("{href}/{}", m.id), None)
            })
            .collect();
        items.push(item(
            format!("solution:{}", s.id),
            &s.name,
            href,
            Some(modules),
        ));
    }
    if role == Role::Admin {
        let configuration = [
            ("users", "Users", "/app/configuration/users"),
            ("api", "API management", "/app/configuration/api"),
            ("sso", "Single sign-on", "/app/configuration/sso"),
            ("signin", "Sign-in", "/app/configuration/signin"),
            ("audit", "Audit log", "/app/configuration/audit"),
        ]
        .into_iter()
        .map(|(id, label, href)| item(id.into(), label, href.into(), None))
        .collect();
        let href = "/app/configuration".into();
        items.push(item(
            "configuration".into(),
            "Configuration",
            href,
            Some(configuration),
        ));
    }
    items
}

/// One entry of the menu; solutions list their modules, Configuration its pages.
#[derive(Serialize)]
pub struct MenuItem {
    id: String,
    label: String,
    href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    children: Option<Vec<MenuItem>>,
}

#[derive(Serialize)]
struct Me<'a> {
    user: UserView<'a>,
    tenant: TenantView<'a>,
    menu: Vec<MenuItem>,
    checklist: Option<Vec<Step>>,
    /// Where the session acts now.
    organization: OrganizationView<'a>,
    /// Where this person may act, their own tenant first.
    organizations: Vec<Place>,
}

#[derive(Serialize)]
struct OrganizationView<'a> {
    id: &'a str,
    name: &'a str,
    kind: TenantKind,
    /// The MSP's name, while acting in an organization it manages.
    managed_by: Option<&'a str>,
}

#[derive(Serialize)]
struct Place {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct UserView<'a> {
    id: &'a str,
    email: &'a str,
    role: Role,
    role_label: &'static str,
}

#[derive(Serialize)]
struct TenantView<'a> {
    id: &'a str,
    name: &'a str,
    setup_done: bool,
}

/// A step of the admin's setup checklist.
#[derive(Serialize)]
struct Step {
    id: &'static str,
    label: &'static str,
    done: bool,
    href: &'static str,
}

/// Two requests one after the other: the session; then the user, the tenant and what the
/// admin's checklist ticks from (the SSO configuration, the platform connection) together.
pub(crate) async fn me(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let checklist_items = |s: &SessionOwner| Fetch::default().sso(&s.tenant).platform(&s.tenant);
    let caller = authenticate_with(state, req, Level::Full, checklist_items).await?;
    let Some(role) = caller.user.role else {
        return Err(porter_shared::auth::access::no_role());
    };
    let tenant = caller
        .tenant
        .as_ref()
        .ok_or_else(porter_shared::auth::session::unauthenticated)?;
    let checklist = (role == Role::Admin).then(|| checklist(&caller.more, tenant));
    let home = caller.home.as_ref().unwrap_or(tenant);
    let organizations = places(state, &caller.user, home).await?;
    let msp_admin = role == Role::Admin && TenantKind::of(home) == TenantKind::Msp;
    let me = Me {
        user: UserView {
            id: caller.user.id.as_str(),
            email: caller.user.email.as_str(),
            role,
            role_label: role.label(),
        },
        tenant: TenantView {
            id: tenant.id.as_str(),
            name: tenant.display_name(),
            setup_done: tenant.setup_done,
        },
        menu: with_organizations(menu(role, tenant.entitlements.as_ref()), msp_admin),
        checklist,
        organization: OrganizationView {
            id: tenant.id.as_str(),
            name: tenant.display_name(),
            kind: TenantKind::of(tenant),
            managed_by: caller.home.as_ref().map(TenantRecord::display_name),
        },
        organizations,
    };
    Ok(json(StatusCode::OK, &me))
}

/// Where `user` may act: their own tenant and, for a person of an MSP, the organizations of
/// it in their scope (one query and one batch read more, for MSP staff only).
async fn places(
    state: &AppState,
    user: &UserRecord,
    home: &TenantRecord,
) -> Result<Vec<Place>, ApiError> {
    let mut places = vec![Place {
        id: home.id.as_str().to_owned(),
        name: home.display_name().to_owned(),
    }];
    if TenantKind::of(home) == TenantKind::Msp {
        for org in state.store.list_organizations(&home.id).await? {
            if may_act_in(user, &org) {
                places.push(Place {
                    id: org.id.as_str().to_owned(),
                    name: org.display_name().to_owned(),
                });
            }
        }
    }
    Ok(places)
}

/// An MSP admin's Configuration also holds the organizations it manages and its own.
fn with_organizations(mut items: Vec<MenuItem>, msp_admin: bool) -> Vec<MenuItem> {
    if msp_admin {
        if let Some(children) = items
            .iter_mut()
            .find(|i| i.id == "configuration")
            .and_then(|i| i.children.as_mut())
        {
            let item = |id: &str, label: &str, href: &str| MenuItem {
                id: id.into(),
                label: label.into(),
                href: href.into(),
                children: None,
            };
            children.splice(
                0..0,
                [
                    item(
                        "organizations",
                        "Managed organizations",
                        "/app/configuration/organizations",
                    ),
                    item(
                        "my-organization",
                        "My organization",
                        "/app/configuration/my-organization",
                    ),
                ],
            );
        }
    }
    items
}

/// The admin's setup checklist, each step ticked from what is stored.
fn checklist(stored: &Fetched, tenant: &TenantRecord) -> Vec<Step> {
    let sso_chosen = stored
        .sso
        .as_ref()
        .is_some_and(|(sso, _)| sso.updated_at.is_some());
    let step = |id, label, done, href| Step {
        id,
        label,
        done,
        href,
    };
    vec![
        step(
            "organisation",
            "Name your organisation",
            tenant.setup_done,
            "/app/setup",
        ),
        step(
            "api",
            "Connect to the platform (API management)",
            stored.platform.is_some(),
            "/app/configuration/api",
        ),
        step(
            "license",
            "Check your license",
            tenant.entitlements.is_some(),
            "/app/configuration/api",
        ),
        step(
            "sso",
            "Choose how people sign in (single sign-on, or skip it)",
            sso_chosen,
            "/app/configuration/sso",
        ),
        step(
            "users",
            "Invite your users",
            tenant.user_count > 1,
            "/app/configuration/users",
        ),
    ]
}
