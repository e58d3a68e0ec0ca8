//! The Porter session behind an app's tokens, as the token endpoint and userinfo both judge
//! it: still there, full and live for its user, acting where the tokens say, in a tenant (and
//! MSP) not suspended, for a user with a role. One BatchGetItem (with the grant, when asked).

use porter_shared::domain::oauth::GrantRecord;
use porter_shared::domain::{
    GrantId, Level, SessionOwner, SessionRecord, TenantRecord, Timestamp, TokenHash, UserRecord,
};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::StoreError;
use porter_shared::AppState;

/// The session, its user, the tenant it acts in, and the grant when one was asked for (and
/// is not revoked).
pub struct Live {
    pub session: SessionRecord,
    pub user: UserRecord,
    pub tenant: TenantRecord,
    pub grant: Option<GrantRecord>,
}

/// Why the session no longer stands behind the tokens.
pub enum Ended {
    /// Signed out, expired, idle, its user removed or their sessions ended.
    Gone,
    Suspended,
    NoRole,
    Store(StoreError),
}

impl From<StoreError> for Ended {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

pub async fn live_session(
    state: &AppState,
    session: &TokenHash,
    owner: &SessionOwner,
    grant: Option<&GrantId>,
    now: Timestamp,
) -> Result<Live, Ended> {
    let mut fetch = Fetch::default()
        .session(session)
        .user(&owner.home, &owner.user)
        .tenant(&owner.tenant);
    if owner.tenant != owner.home {
        fetch = fetch.home(&owner.home);
    }
    if let Some(g) = grant {
        fetch = fetch.grant(g);
    }
    let mut found = state.store.fetch(&fetch).await?;
    let (user, _) = found.user.take().ok_or(Ended::Gone)?;
    let session = found
        .session
        .take()
        .filter(|s| s.owner() == *owner && s.level == Level::Full && s.is_live(&user, now))
        .ok_or(Ended::Gone)?;
    let tenant = found.tenant.take().ok_or(Ended::Gone)?;
    if tenant.is_suspended() || found.home.as_ref().is_some_and(|h| h.is_suspended()) {
        return Err(Ended::Suspended);
    }
    if user.role.is_none() {
        return Err(Ended::NoRole);
    }
    Ok(Live {
        session,
        user,
        tenant,
        grant: found.grant.take(),
    })
}
