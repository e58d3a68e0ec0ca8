//! Sessions: a 256-bit secret in a cookie (behind whose it is), its SHA-256 in DynamoDB,
//! looked up on every request. Levels: `password` (first factor only: enrolment and the MFA
//! check) and `full`.

use crate::domain::device::DeviceRecord;
use crate::domain::organization::may_act_in;
pub use crate::domain::session::{ABSOLUTE_SECS, IDLE_SECS, PASSWORD_LEVEL_SECS};
use crate::domain::{
    Credentials, Level, PresentedSession, SessionOwner, SessionRecord, TenantId, TenantRecord,
    Timestamp, TokenHash, UserId, UserRecord,
};
use crate::http::cookies::Cookie;
use crate::http::ApiError;
use crate::store::fetch::{Fetch, Fetched};
use crate::store::StoreError;
use crate::AppState;
use http::StatusCode;
use lambda_http::Request;
use std::future::Future;

/// Activity is written at most this often (each write costs a request).
const TOUCH_EVERY_SECS: i64 = 60;

/// The caller, as their session proves. The credentials come with the same read of the user
/// item, so the MFA flows need no second one; the tenant and whatever else the route named
/// ([`authenticate_with`]) come in the same request too.
pub struct Caller {
    pub session: SessionRecord,
    pub user: UserRecord,
    pub credentials: Credentials,
    /// The tenant the session acts in (the user's own, or an organization their MSP
    /// manages); `None` only if the tenant item is gone.
    pub tenant: Option<TenantRecord>,
    /// The user's own tenant (their MSP) while the session acts in an organization it
    /// manages; `None` otherwise.
    pub home: Option<TenantRecord>,
    /// What the route asked to read with the caller (counters, the SSO configuration...).
    pub more: Fetched,
    /// This browser's device cookie, when it is the caller's (read with the caller).
    pub device: Option<DeviceRecord>,
}

impl Caller {
    /// An audit event of what this person did, in the log of the tenant the session acts
    /// in: in an organization their MSP manages, with the MSP's name.
    pub fn event(
        &self,
        action: crate::domain::Action,
        target: Option<&UserRecord>,
        source_ip: &str,
    ) -> crate::domain::AuditEvent {
        let event = crate::domain::AuditEvent::by(&self.user, action, target, source_ip);
        match (&self.home, &self.tenant) {
            (Some(msp), Some(acting)) => event.acting_in(&acting.id, msp.display_name()),
            _ => event,
        }
    }
}

/// The hash of the device cookie the browser sent, if it sent one shaped like ours.
pub fn presented_device(req: &Request, state: &AppState) -> Option<TokenHash> {
    Cookie::Device
        .read(req, &state.config)
        .and_then(|v| TokenHash::of_presented(&v))
}

/// A store error of a write that replaces the caller's session: a failed condition means the
/// session was gone (signed out, ended elsewhere), which the client sees as 401.
pub fn session_gone(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict { .. } => unauthenticated(),
        e => e.into(),
    }
}

pub fn unauthenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "Your session has ended. Sign in to continue.",
    )
}

/// Resolves the request's session. `need` is the least level the route requires: a session
/// at `password` level gets 403 `mfa_required` from everything but enrolment and the MFA check.
/// One request: the cookie names whose session it is, so the session, its user and tenant are
/// read together (a cookie from before it did costs a second one, the session first); the
/// activity write follows, at most once a minute.
pub async fn authenticate(
    state: &AppState,
    req: &Request,
    need: Level,
) -> Result<Caller, ApiError> {
    authenticate_with(state, req, need, |_| Fetch::default()).await
}

/// [`authenticate`], reading the items `more` names (for the session's tenant or user) in the
/// same request as the user and the tenant.
pub async fn authenticate_with(
    state: &AppState,
    req: &Request,
    need: Level,
    more: impl FnOnce(&SessionOwner) -> Fetch,
) -> Result<Caller, ApiError> {
    let nothing = |_, _| async { Ok(()) };
    Ok(authenticate_alongside(state, req, need, more, nothing)
        .await?
        .0)
}

/// [`authenticate_with`], running the route's own read (a query under the session's tenant
/// or user) at the same time, so that it does not wait for the caller's. Its result is
/// dropped unless the caller is who the session says and may use the route.
pub async fn authenticate_alongside<T, F, Fut>(
    state: &AppState,
    req: &Request,
    need: Level,
    more: impl FnOnce(&SessionOwner) -> Fetch,
    read: F,
) -> Result<(Caller, T), ApiError>
where
    F: FnOnce(TenantId, UserId) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let now = Timestamp::now();
    let presented = Cookie::Session
        .read(req, &state.config)
        .and_then(|v| PresentedSession::parse(&v))
        .ok_or_else(unauthenticated)?;
    let hash = &presented.hash;
    let (owner, known) = match &presented.owner {
        Some(owner) => (owner.clone(), None),
        None => {
            let session = state.store.get_session(hash).await?;
            let session = session.ok_or_else(unauthenticated)?;
            (session.owner(), Some(session))
        }
    };
    let mut fetch = more(&owner)
        .user(&owner.home, &owner.user)
        .tenant(&owner.tenant)
        .device(presented_device(req, state));
    if known.is_none() {
        fetch = fetch.session(hash);
    }
    if owner.tenant != owner.home {
        fetch = fetch.home(&owner.home);
    }
    let (fetched, extra) = tokio::join!(
        state.store.fetch(&fetch),
        read(owner.tenant.clone(), owner.user.clone())
    );
    let mut fetched = fetched?;
    // The ids in the cookie prove nothing: the session under its hash must name them.
    let session = known
        .or_else(|| fetched.session.take())
        .filter(|s| presented.names(s))
        .ok_or_else(unauthenticated)?;
    // Expired or idle: over (and never touched back to life).
    if !session.is_fresh(now) {
        return Err(ended(state, hash).await);
    }
    let Some((user, credentials)) = fetched.user.take().filter(|(u, _)| session.is_live(u, now))
    else {
        return Err(ended(state, hash).await);
    };
    if need == Level::Full && session.level != Level::Full {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "mfa_required",
            "Complete the second sign-in step first.",
        ));
    }
    let tenant = fetched.tenant.take();
    let home = fetched.home.take();
    // Acting in an organization: still one its MSP manages and in this person's scope. An
    // organization taken out of their scope, or removed, ends the session here.
    if session.acting.is_some() && !tenant.as_ref().is_some_and(|t| may_act_in(&user, t)) {
        return Err(ended(state, hash).await);
    }
    let extra = extra?;
    let device = fetched.device.take().filter(|d| d.is_of(&user, now));
    // Checked on every request, not only by the loop that ends a suspended tenant's sessions:
    // a session that loop missed still opens nothing. A suspended MSP acts nowhere.
    if tenant.iter().chain(&home).any(|t| t.is_suspended()) {
        return Err(tenant_suspended());
    }
    if now.0 - session.last_seen.0 >= TOUCH_EVERY_SECS {
        if let Err(e) = state.store.touch_session(hash, now, None).await {
            tracing::warn!(error = %e, "could not record session activity");
        }
    }
    Ok((
        Caller {
            session,
            user,
            credentials,
            tenant,
            home,
            more: fetched,
            device,
        },
        extra,
    ))
}

/// The organisation is suspended: nobody of it may do anything.
pub fn tenant_suspended() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "tenant_suspended",
        "Your organisation's access is suspended. Contact your representative.",
    )
}

/// A session that is over (expired, idle, its user removed or their sessions ended): tidied
/// away, and the caller told to sign in.
async fn ended(state: &AppState, hash: &TokenHash) -> ApiError {
    let _ = state.store.delete_session(hash).await;
    unauthenticated()
}
