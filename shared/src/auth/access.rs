//! Who may do what. Admins reach everything; core users the product but never Configuration
//! (API management, SSO, users, audit); users without a role nothing but the message.

pub use super::session::tenant_suspended;
use super::session::{authenticate_alongside, authenticate_with, unauthenticated, Caller};
use crate::domain::{Level, Role, SessionOwner, TenantId, TenantRecord, UserId};
use crate::http::ApiError;
use crate::store::fetch::Fetch;
use crate::store::StoreError;
use crate::AppState;
use http::StatusCode;
use lambda_http::Request;
use std::future::Future;

pub fn no_role() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "no_role",
        "You have no role yet; ask your administrator.",
    )
}

pub fn forbidden() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Only administrators can do this.",
    )
}

pub fn setup_required() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "setup_required",
        "Finish the initial setup of your organisation first.",
    )
}

/// A fully signed-in admin and their tenant.
pub struct Admin {
    pub caller: Caller,
    pub tenant: TenantRecord,
}

/// The caller, if they are an admin; with `setup_first`, only once the tenant is set up.
pub async fn admin(state: &AppState, req: &Request, setup_first: bool) -> Result<Admin, ApiError> {
    admin_with(state, req, setup_first, |_| Fetch::default()).await
}

/// [`admin`], reading the items `more` names with the caller (see [`authenticate_with`]).
pub async fn admin_with(
    state: &AppState,
    req: &Request,
    setup_first: bool,
    more: impl FnOnce(&SessionOwner) -> Fetch,
) -> Result<Admin, ApiError> {
    let caller = authenticate_with(state, req, Level::Full, more).await?;
    admitted(caller, setup_first)
}

/// [`admin`], running the route's own read of the tenant's items at the same time (see
/// [`authenticate_alongside`]); it is dropped unless the caller is an admin.
pub async fn admin_alongside<T, F, Fut>(
    state: &AppState,
    req: &Request,
    setup_first: bool,
    read: F,
) -> Result<(Admin, T), ApiError>
where
    F: FnOnce(TenantId, UserId) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let nothing = |_: &SessionOwner| Fetch::default();
    let (caller, found) = authenticate_alongside(state, req, Level::Full, nothing, read).await?;
    Ok((admitted(caller, setup_first)?, found))
}

impl Admin {
    /// An audit event of what this admin did, in the log of the tenant the session acts in:
    /// in an organization their MSP manages, with the MSP's name.
    pub fn event(
        &self,
        action: crate::domain::Action,
        target: Option<&crate::domain::UserRecord>,
        source_ip: &str,
    ) -> crate::domain::AuditEvent {
        self.caller.event(action, target, source_ip)
    }

    /// Widening what an MSP's people reach (adding organizations, changing where someone may
    /// work) is for admins who may work in all of its organizations: a scoped admin could
    /// otherwise grant a colleague, or a new organization, more than they have.
    pub fn require_all_organizations(&self) -> Result<(), ApiError> {
        if self.caller.user.org_scope() == crate::domain::OrgScope::All {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "all_organizations_required",
                "Only an admin who may work in all of your organizations can do this.",
            ))
        }
    }
}

fn admitted(caller: Caller, setup_first: bool) -> Result<Admin, ApiError> {
    match caller.user.role {
        None => return Err(no_role()),
        Some(Role::Core) => return Err(forbidden()),
        Some(Role::Admin) => {}
    }
    let tenant = caller.tenant.clone().ok_or_else(unauthenticated)?;
    if setup_first && !tenant.setup_done {
        return Err(setup_required());
    }
    Ok(Admin { caller, tenant })
}
