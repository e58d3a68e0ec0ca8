//! Who may do what. Admins reach everything; core users the product but never Configuration
//! (API management, SSO, users, audit); users without a role nothing but the message.

use super::session::{authenticate, unauthenticated, Caller};
use crate::domain::{Level, Role, TenantRecord};
use crate::http::ApiError;
use crate::AppState;
use http::StatusCode;
use lambda_http::Request;

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

pub fn tenant_suspended() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "tenant_suspended",
        "Your organisation's access is suspended. Contact your representative.",
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
    let caller = authenticate(state, req, Level::Full).await?;
    match caller.user.role {
        None => return Err(no_role()),
        Some(Role::Core) => return Err(forbidden()),
        Some(Role::Admin) => {}
    }
    let tenant = state
        .store
        .get_tenant(&caller.user.tenant)
        .await?
        .ok_or_else(unauthenticated)?;
    if setup_first && !tenant.setup_done {
        return Err(setup_required());
    }
    Ok(Admin { caller, tenant })
}
