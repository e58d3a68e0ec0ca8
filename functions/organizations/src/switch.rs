//! Where a session acts: an organization the caller's MSP manages and their scope allows, or
//! back in their own tenant. The session moves under a new id (the old cookie answers 401
//! from then on); level, proof and absolute end carry over.

use lambda_http::http::{header, StatusCode};
use porter_shared::auth::session::{authenticate, session_gone, Caller};
use porter_shared::domain::organization::{may_act_in, TenantKind};
use porter_shared::domain::{Action, AuditEvent, Level, TenantId, TenantRecord, Timestamp};
use porter_shared::http::cookies::Cookie;
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::AppState;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct SwitchRequest {
    id: String,
}

#[derive(Serialize)]
struct Organization<'a> {
    id: &'a str,
    name: &'a str,
    kind: TenantKind,
}

#[derive(Serialize)]
struct Switched<'a> {
    organization: Organization<'a>,
}

/// The tenant `id` names, if the caller may act there: their own, or an organization of
/// their MSP in their scope. Anything else is as unknown as an id nobody has.
async fn target(
    state: &AppState,
    caller: &Caller,
    id: &TenantId,
) -> Result<TenantRecord, ApiError> {
    if *id == caller.user.tenant {
        return caller
            .home
            .clone()
            .or_else(|| caller.tenant.clone())
            .ok_or_else(ApiError::organization_not_found);
    }
    state
        .store
        .get_tenant(id)
        .await?
        .filter(|org| may_act_in(&caller.user, org))
        .ok_or_else(ApiError::organization_not_found)
}

pub(crate) async fn switch(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    let body: SwitchRequest = parse_json(req)?;
    let id = TenantId::parse(&body.id).ok_or_else(ApiError::organization_not_found)?;
    let org = target(state, &caller, &id).await?;
    if org.is_suspended() {
        return Err(porter_shared::auth::session::tenant_suspended());
    }
    let now = Timestamp::now();
    let (new_id, record) =
        caller
            .session
            .acting_in(Some(org.id.clone()), now, &mut rand::rngs::OsRng);
    // The MSP's log: who went to work where.
    let audit = AuditEvent::by(
        &caller.user,
        Action::OrganizationSwitch,
        None,
        &client_ip(req),
    )
    .target_text(org.id.as_str().to_owned())
    .detail(org.display_name());
    state
        .store
        .move_session(
            &caller.session.hash,
            &record,
            &audit,
            &mut rand::rngs::OsRng,
        )
        .await
        .map_err(session_gone)?;
    let left = (record.expires_at.0 - now.0).max(0);
    let mut resp = json(
        StatusCode::OK,
        &Switched {
            organization: Organization {
                id: org.id.as_str(),
                name: org.display_name(),
                kind: TenantKind::of(&org),
            },
        },
    );
    resp.headers_mut().append(
        header::SET_COOKIE,
        Cookie::Session.set(&state.config, new_id.secret(), left),
    );
    Ok(resp)
}
