//! An MSP's admins list, add, rename and remove the organizations it manages. Wherever their
//! session acts, these work on their own MSP; the events go to the MSP's log.

use lambda_http::http::StatusCode;
use porter_shared::auth::access::{self, Admin};
use porter_shared::domain::organization::{may_act_in, NewOrganization, TenantKind};
use porter_shared::domain::DEFAULT_MAX_USERS;
use porter_shared::domain::{Action, AuditEvent, TenantId, TenantRecord, Timestamp};
use porter_shared::http::{client_ip, empty, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::store::organizations::CreateOrgError;
use porter_shared::tenants::parse_tenant_name;
use porter_shared::AppState;
use serde::{Deserialize, Serialize};

/// The caller, an admin of an MSP, and the MSP (their own tenant, wherever they act).
pub(crate) async fn msp_admin(
    state: &AppState,
    req: &Request,
) -> Result<(Admin, TenantRecord), ApiError> {
    let admin = access::admin(state, req, false).await?;
    let msp = admin
        .caller
        .home
        .clone()
        .unwrap_or_else(|| admin.tenant.clone());
    if TenantKind::of(&msp) != TenantKind::Msp {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_an_msp",
            "Your organisation does not manage other organizations.",
        ));
    }
    Ok((admin, msp))
}

/// An admin whose scope lists some organizations manages only those: the others are as
/// unknown to them as another MSP's.
fn in_scope(admin: &Admin, org: &TenantId) -> Result<(), ApiError> {
    if admin.caller.user.org_scope().allows(org) {
        Ok(())
    } else {
        Err(ApiError::organization_not_found())
    }
}

#[derive(Deserialize)]
struct NameRequest {
    name: String,
}

fn parse_name(req: &Request) -> Result<String, ApiError> {
    let body: NameRequest = parse_json(req)?;
    parse_tenant_name(&body.name).map_err(|_| {
        ApiError::bad_request(
            "invalid_organization_name",
            "Give the organization a name of 1 to 100 characters.",
        )
    })
}

#[derive(Serialize)]
struct OrganizationRow {
    id: String,
    name: String,
    created_at: String,
    users: u32,
    max_users: u32,
    checked_at: Option<String>,
}

#[derive(Serialize)]
struct Listed {
    organizations: Vec<OrganizationRow>,
    limit: u32,
}

pub(crate) async fn list(state: &AppState, req: &Request) -> HandlerResult {
    let (admin, msp) = msp_admin(state, req).await?;
    let organizations = state
        .store
        .list_organizations(&msp.id)
        .await?
        .into_iter()
        .filter(|t| may_act_in(&admin.caller.user, t))
        .map(|t| OrganizationRow {
            name: t.display_name().to_owned(),
            checked_at: t.entitlements.as_ref().map(|e| e.checked_at.to_rfc3339()),
            id: t.id.as_str().to_owned(),
            created_at: t.created_at,
            users: t.user_count,
            max_users: t.max_users,
        })
        .collect();
    Ok(json(
        StatusCode::OK,
        &Listed {
            organizations,
            limit: msp.max_organizations.unwrap_or_default(),
        },
    ))
}

#[derive(Serialize)]
struct Named<'a> {
    id: &'a str,
    name: &'a str,
}

fn event(admin: &Admin, req: &Request, action: Action, org: &TenantId, name: &str) -> AuditEvent {
    AuditEvent::by(&admin.caller.user, action, None, &client_ip(req))
        .target_text(org.as_str().to_owned())
        .detail(name)
}

pub(crate) async fn create(state: &AppState, req: &Request) -> HandlerResult {
    let (admin, msp) = msp_admin(state, req).await?;
    admin.require_all_organizations()?;
    let name = parse_name(req)?;
    let org = NewOrganization {
        id: TenantId::generate(&mut rand::rngs::OsRng),
        msp: msp.id.clone(),
        name,
        max_users: DEFAULT_MAX_USERS,
        now: Timestamp::now(),
    };
    let audit = event(&admin, req, Action::OrganizationCreate, &org.id, &org.name);
    match state
        .store
        .create_organization(&org, &audit, &mut rand::rngs::OsRng)
        .await
    {
        Ok(()) => Ok(json(
            StatusCode::CREATED,
            &Named {
                id: org.id.as_str(),
                name: &org.name,
            },
        )),
        Err(CreateOrgError::LimitReached) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "organization_limit_reached",
            format!(
                "You manage as many organizations as your plan allows ({}).",
                msp.max_organizations.unwrap_or_default()
            ),
        )),
        Err(CreateOrgError::Store(e)) => Err(e.into()),
    }
}

pub(crate) async fn rename(state: &AppState, req: &Request, id: TenantId) -> HandlerResult {
    let (admin, msp) = msp_admin(state, req).await?;
    in_scope(&admin, &id)?;
    let name = parse_name(req)?;
    let audit = event(&admin, req, Action::OrganizationRename, &id, &name);
    let renamed = state
        .store
        .rename_organization(&msp.id, &id, &name, &audit, &mut rand::rngs::OsRng)
        .await?;
    if !renamed {
        return Err(ApiError::organization_not_found());
    }
    Ok(json(
        StatusCode::OK,
        &Named {
            id: id.as_str(),
            name: &name,
        },
    ))
}

pub(crate) async fn remove(state: &AppState, req: &Request, id: TenantId) -> HandlerResult {
    let (admin, msp) = msp_admin(state, req).await?;
    in_scope(&admin, &id)?;
    let name = state
        .store
        .get_tenant(&id)
        .await?
        .filter(|t| t.parent.as_ref() == Some(&msp.id))
        .map(|t| t.display_name().to_owned())
        .ok_or_else(ApiError::organization_not_found)?;
    // Its secrets go first: were the items removed first, a failure here would leave secrets
    // nobody can reach or remove; this way a retry of the removal finishes the job.
    state
        .secrets()
        .delete_tenant_secrets(id.as_str())
        .await
        .map_err(|e| ApiError::internal("removing an organization's secrets failed", &e))?;
    let audit = event(&admin, req, Action::OrganizationRemove, &id, &name);
    let removed = state
        .store
        .remove_organization(&msp.id, &id, &audit, &mut rand::rngs::OsRng)
        .await?;
    if !removed {
        return Err(ApiError::organization_not_found());
    }
    Ok(empty(StatusCode::NO_CONTENT))
}
