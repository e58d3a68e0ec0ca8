//! Who is calling, and whether their license lets them reach the route.

use aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use lambda_http::http;
use porter_shared::access_tokens;
use porter_shared::auth::session::authenticate;
use porter_shared::credentials::access::{kid_of, verify};
use porter_shared::domain::access_token::{edge_allows, entitlement_claim};
use porter_shared::domain::{Level, Timestamp};
use porter_shared::AppState;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What API Gateway hands the protected route (`requestContext.authorizer.lambda`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub tenant_id: String,
    pub user_id: String,
    pub email: String,
    pub role: String,
    /// `{"<solution>": ["<module>", …]}`
    pub entitlements: BTreeMap<String, Vec<String>>,
    /// `token` or `session`.
    pub auth_via: String,
}

/// The caller's context when they may reach the route; `None` refuses (API Gateway answers
/// 403 `{"message":"Forbidden"}`). Why is logged, never answered.
pub async fn decide(
    state: &AppState,
    event: &ApiGatewayV2CustomAuthorizerV2Request,
) -> Option<Context> {
    let bearer = event
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let context = match bearer {
        Some(token) => from_token(state, token.trim()).await,
        None => from_session(state, event).await,
    }?;
    let path = event.raw_path.as_deref().unwrap_or("/");
    if !edge_allows(path, &context.role, &context.entitlements) {
        tracing::info!(path, "refused: not in the license or the role");
        return None;
    }
    Some(context)
}

async fn from_token(state: &AppState, token: &str) -> Option<Context> {
    let refused = |why: &dyn std::fmt::Display| {
        tracing::info!(reason = %why, "refused a bearer token");
        None
    };
    let kid = match kid_of(token) {
        Ok(k) => k,
        Err(e) => return refused(&e),
    };
    let key = match access_tokens::verifying_key(state, &kid).await {
        Ok(Some(k)) => k,
        Ok(None) => return refused(&format!("no published key has kid {kid}")),
        Err(e) => return refused(&e),
    };
    let config = &state.config;
    let issuer = config.public_base_url.as_str().trim_end_matches('/');
    let now = Timestamp::now().0;
    match verify(token, &key, issuer, &config.token_audience, now) {
        Ok(c) => Some(Context {
            tenant_id: c.tid,
            user_id: c.sub,
            email: c.email,
            role: c.role,
            entitlements: c.ent,
            auth_via: "token".into(),
        }),
        Err(e) => refused(&e),
    }
}

/// The session cookie, by the same rules as every Porter route: a live full session, a user
/// with a role, a tenant that is not suspended.
async fn from_session(
    state: &AppState,
    event: &ApiGatewayV2CustomAuthorizerV2Request,
) -> Option<Context> {
    if event.cookies.is_empty() {
        return None;
    }
    let req = http::Request::builder()
        .uri(event.raw_path.as_deref().unwrap_or("/"))
        .header(http::header::COOKIE, event.cookies.join("; "))
        .body(lambda_http::Body::Empty)
        .ok()?;
    let caller = match authenticate(state, &lambda_http::Request::from(req), Level::Full).await {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(code = e.code, "refused a session");
            return None;
        }
    };
    let role = caller.user.role?;
    let tenant = caller.tenant.as_ref()?;
    Some(Context {
        tenant_id: tenant.id.as_str().to_owned(),
        user_id: caller.user.id.as_str().to_owned(),
        email: caller.user.email.as_str().to_owned(),
        role: role.as_str().to_owned(),
        entitlements: entitlement_claim(tenant.entitlements.as_ref()),
        auth_via: "session".into(),
    })
}
