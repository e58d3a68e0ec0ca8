//! The organisation's people: list, change a role, remove, send a new invitation.

use lambda_http::http::StatusCode;
use porter_shared::auth::access::{self, Admin};
use porter_shared::domain::{Action, OrgScope, TenantKind, UserRecord};
use porter_shared::domain::{Role, SessionOwner, Timestamp, UserId, UserStatus};
use porter_shared::http::Notice;
use porter_shared::http::{client_ip, empty, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::invitations::{self, ReissueError};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::members::MemberError;
use porter_shared::AppState;

use serde::{Deserialize, Serialize};

fn user_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "user_not_found",
        "There is no such user in your organisation.",
    )
}

/// The caller, if an admin, and the user named in the path, read together: in the caller's
/// own tenant only (another tenant's id is a 404).
async fn admin_and_target(
    state: &AppState,
    req: &Request,
    uid: &UserId,
) -> Result<(Admin, UserRecord), ApiError> {
    let with_target = |s: &SessionOwner| Fetch::default().member(&s.tenant, uid);
    let mut admin = access::admin_with(state, req, true, with_target).await?;
    let user = admin.caller.more.member.take().ok_or_else(user_not_found)?;
    Ok((admin, user))
}

/// The roles a user can be given, with the labels people know them by: the pages show these
/// instead of keeping their own copy.
fn roles() -> Vec<RoleLabel> {
    Role::ALL
        .iter()
        .map(|r| RoleLabel {
            role: Some(*r),
            label: r.label(),
        })
        .chain(std::iter::once(RoleLabel {
            role: None,
            label: Role::NONE_LABEL,
        }))
        .collect()
}

#[derive(Serialize)]
struct RoleLabel {
    role: Option<Role>,
    label: &'static str,
}

/// A person as the users page shows them.
#[derive(Serialize)]
struct MemberView<'a> {
    invited_at: Option<String>,
    invitation_expired: bool,
    id: &'a str,
    email: &'a str,
    role: Option<Role>,
    role_label: Option<&'static str>,
    status: UserStatus,
    mfa_enrolled: bool,
    last_sign_in: Option<String>,
    /// Where a person of an MSP may work ("all" or organization ids); absent elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    organizations: Option<serde_json::Value>,
}

fn view(u: &UserRecord) -> MemberView<'_> {
    let invited_at = u.invited_at.filter(|_| u.status == UserStatus::Invited);
    let expired = invited_at.is_some_and(|at| {
        Timestamp::now().0 >= at + porter_shared::domain::TokenKind::Activation.lifetime_secs()
    });
    MemberView {
        invited_at: invited_at.map(|t| Timestamp(t).to_rfc3339()),
        invitation_expired: expired,
        id: u.id.as_str(),
        email: u.email.as_str(),
        role: u.role,
        role_label: u.role.map(Role::label),
        status: u.status,
        mfa_enrolled: u.has_mfa(),
        last_sign_in: u.last_login_at.map(|t| Timestamp(t).to_rfc3339()),
        organizations: None,
    }
}

/// Whether the admin works in their own MSP (not in an organization it manages).
fn in_msp(admin: &Admin) -> bool {
    admin.caller.home.is_none() && TenantKind::of(&admin.tenant) == TenantKind::Msp
}

/// The view, with the person's scope when the list is the MSP's own.
fn view_in<'a>(u: &'a UserRecord, msp: bool) -> MemberView<'a> {
    MemberView {
        organizations: msp.then(|| u.org_scope().to_json()),
        ..view(u)
    }
}

#[derive(Serialize)]
struct Members<'a> {
    users: Vec<MemberView<'a>>,
    user_count: u32,
    max_users: u32,
    roles: Vec<RoleLabel>,
}

/// Two requests one after the other: the session; the caller and tenant while the users are
/// listed.
pub(crate) async fn list(state: &AppState, req: &Request) -> HandlerResult {
    let read = |tid, _| async move { state.store.list_users(&tid).await };
    let (admin, mut users) = access::admin_alongside(state, req, true, read).await?;
    users.sort_by(|a, b| a.email.as_str().cmp(b.email.as_str()));
    let msp = in_msp(&admin);
    Ok(json(
        StatusCode::OK,
        &Members {
            users: users.iter().map(|u| view_in(u, msp)).collect(),
            user_count: admin.tenant.user_count,
            max_users: admin.tenant.max_users,
            roles: roles(),
        },
    ))
}

/// `{role}` and/or, for a person of an MSP, `{organizations}`: a field that is absent is left
/// as it is (a `role` of null takes the role away).
#[derive(Deserialize)]
struct ChangeRequest {
    #[serde(default, deserialize_with = "present")]
    role: Option<Option<String>>,
    organizations: Option<serde_json::Value>,
}

/// `Some(None)` for an explicit null, so that it differs from an absent field.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub(crate) async fn change_role(state: &AppState, req: &Request, id: UserId) -> HandlerResult {
    let (admin, mut user) = admin_and_target(state, req, &id).await?;
    let body: ChangeRequest = parse_json(req)?;
    if body.role.is_none() && body.organizations.is_none() {
        return Err(ApiError::bad_request(
            "invalid_role",
            "Send the role (\"admin\", \"core\" or null) or the organizations.",
        ));
    }
    if let Some(scope) = &body.organizations {
        user.organizations = Some(change_scope(state, req, &admin, &user, scope).await?);
    }
    let msp = in_msp(&admin);
    let Some(role) = body.role else {
        return Ok(json(StatusCode::OK, &view_in(&user, msp)));
    };
    let role = match role.as_deref() {
        None => None,
        Some(r) => Some(Role::parse(r).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_role",
                "The role must be \"admin\", \"core\" or null.",
            )
        })?),
    };
    let audit = admin
        .event(Action::UserRoleChange, Some(&user), &client_ip(req))
        .detail(role.map_or(Role::NONE_LABEL, |r| r.label()));
    state
        .store
        .change_role(&user, role, &audit, &mut rand::rngs::OsRng)
        .await?;
    // The transaction's condition held the role we read, so the user is now exactly this.
    Ok(json(
        StatusCode::OK,
        &view_in(&UserRecord { role, ..user }, msp),
    ))
}

/// Where a person of the MSP may act: `"all"` or organizations it manages (another id is 404
/// `organization_not_found`). Only in the MSP itself, not while acting in an organization.
async fn change_scope(
    state: &AppState,
    req: &Request,
    admin: &Admin,
    user: &UserRecord,
    raw: &serde_json::Value,
) -> Result<OrgScope, ApiError> {
    if !in_msp(admin) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_an_msp",
            "Only a managed service provider's own people work in other organizations.",
        ));
    }
    admin.require_all_organizations()?;
    let scope = OrgScope::parse(raw).ok_or_else(|| {
        ApiError::bad_request(
            "invalid_organizations",
            "Organizations must be \"all\" or a list of organization ids.",
        )
    })?;
    if let OrgScope::Only(ids) = &scope {
        let managed: Vec<_> = state
            .store
            .list_organizations(&admin.tenant.id)
            .await?
            .into_iter()
            .map(|org| org.id)
            .collect();
        if ids.iter().any(|id| !managed.contains(id)) {
            return Err(ApiError::organization_not_found());
        }
    }
    let audit = admin
        .event(Action::OrganizationScope, Some(user), &client_ip(req))
        .detail(scope.to_json().to_string());
    if !state
        .store
        .set_org_scope(
            &admin.tenant.id,
            &user.id,
            &scope,
            &audit,
            &mut rand::rngs::OsRng,
        )
        .await?
    {
        return Err(user_not_found());
    }
    Ok(scope)
}

pub(crate) async fn remove(state: &AppState, req: &Request, id: UserId) -> HandlerResult {
    let (admin, user) = admin_and_target(state, req, &id).await?;
    // The address is kept in the event: the user item it would be read from is gone.
    let audit = admin
        .event(Action::UserRemove, None, &client_ip(req))
        .target_text(format!("{} ({})", user.id, user.email))
        .target_email(user.email.as_str());
    match state
        .store
        .remove_member(&user, &audit, &mut rand::rngs::OsRng)
        .await
    {
        Ok(()) => Ok(empty(StatusCode::NO_CONTENT)),
        // Removed by someone else a moment ago.
        Err(MemberError::Stale) => Err(user_not_found()),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn resend(state: &AppState, req: &Request, id: UserId) -> HandlerResult {
    let (admin, user) = admin_and_target(state, req, &id).await?;
    if user.status == UserStatus::Active {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_active",
            "This user has already activated their account.",
        ));
    }
    match invitations::reissue(
        state,
        &user,
        admin.caller.user.id.as_str(),
        &client_ip(req),
        Timestamp::now(),
    )
    .await
    {
        Ok(()) => Ok(json(
            StatusCode::ACCEPTED,
            &Notice {
                status: "sent",
                message: "A new invitation is on its way.",
            },
        )),
        Err(ReissueError::TooSoon { retry_after_secs }) => {
            Err(ApiError::throttled(retry_after_secs))
        }
        Err(ReissueError::NotPending) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "already_active",
            "This user has already activated their account.",
        )),
        Err(ReissueError::Mail(e)) => Err(ApiError::mail_unavailable(&e)),
        Err(ReissueError::Store(e)) => Err(e.into()),
    }
}
