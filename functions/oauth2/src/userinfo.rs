//! `GET|POST /oauth2/userinfo`: who the bearer of an access token issued here is, as far as its
//! scopes tell. The token must verify, and its grant and Porter session must still stand, as
//! the token endpoint judges them (`live.rs`): a replayed code, a reused refresh token, a
//! sign-out or a suspension stops it here at once. One DynamoDB request (the grant, the
//! session, the user and the tenant together).

use crate::discovery::issuer;
use crate::live::{live_session, Ended};
use lambda_http::http::{header, HeaderValue, StatusCode};
use porter_shared::access_tokens;
use porter_shared::credentials::access::{kid_of, verify};
use porter_shared::domain::access_token::AccessClaims;
use porter_shared::domain::oauth::Subject;
use porter_shared::domain::{GrantId, SessionOwner, TenantId, Timestamp, TokenHash, UserId};
use porter_shared::http::{json, ApiError, Body, HandlerResult, Request, Response};
use porter_shared::AppState;
use serde_json::json;

/// 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3), naming the error when a token was sent.
fn refused(error: Option<&'static str>, description: &str) -> Response<Body> {
    let challenge = match error {
        Some(e) => format!("Bearer error=\"{e}\", error_description=\"{description}\""),
        None => "Bearer".to_owned(),
    };
    let mut resp = json(
        StatusCode::UNAUTHORIZED,
        &json!({ "error": error.unwrap_or("invalid_request"), "error_description": description }),
    );
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

pub async fn userinfo(state: &AppState, req: &Request) -> HandlerResult {
    let Some(token) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return Ok(refused(None, "An access token is required."));
    };
    let invalid = |why: &str| Ok(refused(Some("invalid_token"), why));
    let claims = match verified(state, token).await? {
        Some(c) => c,
        None => return invalid("The access token is not valid."),
    };
    let Some(ids) = Ids::of(&claims) else {
        return invalid("The access token was not issued to an app.");
    };
    let now = Timestamp::now();
    let live = match live_session(state, &ids.session, &ids.owner, Some(&ids.grant), now).await {
        Ok(live) => live,
        Err(Ended::Store(e)) => return Err(e.into()),
        Err(Ended::Suspended) => return invalid("The organisation's access is suspended."),
        Err(Ended::Gone | Ended::NoRole) => return invalid("The Porter sign-in has ended."),
    };
    let Some(grant) = live.grant.as_ref().filter(|g| g.session == ids.session) else {
        return invalid("The app's sign-in was revoked.");
    };
    let subject = Subject {
        session: &live.session,
        user: &live.user,
        tenant: &live.tenant,
    };
    Ok(json(StatusCode::OK, &subject.userinfo(&grant.scope)))
}

/// The claims of a token that verifies against the published keys (`None` if it does not; an
/// error when the keys cannot be read: that is not the token's fault).
async fn verified(state: &AppState, token: &str) -> Result<Option<AccessClaims>, ApiError> {
    let Ok(kid) = kid_of(token) else {
        return Ok(None);
    };
    let key = access_tokens::verifying_key(state, &kid)
        .await
        .map_err(|e| ApiError::internal("reading the signing keys", &e))?;
    let now = Timestamp::now().0;
    let config = &state.config;
    Ok(key.and_then(|key| verify(token, &key, &issuer(state), &config.token_audience, now).ok()))
}

/// What an access token issued here names: its grant, its session and whose it is.
struct Ids {
    grant: GrantId,
    session: TokenHash,
    owner: SessionOwner,
}

impl Ids {
    fn of(c: &AccessClaims) -> Option<Self> {
        let tenant = TenantId::parse(&c.tid)?;
        let home = match &c.msp {
            Some(m) => TenantId::parse(m)?,
            None => tenant.clone(),
        };
        Some(Self {
            grant: GrantId::parse(c.gid.as_deref()?)?,
            session: TokenHash::from_hex(&c.sid)?,
            owner: SessionOwner {
                tenant,
                user: UserId::parse(&c.sub)?,
                home,
            },
        })
    }
}
