//! `POST /api/token`: an access token for the caller's full session, valid five minutes.
//! One DynamoDB request (the session, the user and the tenant together, whose item holds the
//! last license check's entitlements) and one KMS `Sign`. `tid` is the tenant the session
//! acts in; `msp` the MSP, when that is an organization it manages. No token for a session at the
//! password level (401, as without one), a suspended tenant (403 `tenant_suspended`) or a
//! user without a role (403 `no_role`).

use lambda_http::http::StatusCode;
use porter_shared::access_tokens;
use porter_shared::auth::session::{authenticate, unauthenticated};
use porter_shared::domain::access_token::{new_jti, AccessClaims, ACCESS_TOKEN_SECS};
use porter_shared::domain::{Level, Timestamp};
use porter_shared::http::{json, ApiError, HandlerResult, Request};
use porter_shared::AppState;
use serde::Serialize;

#[derive(Serialize)]
struct Issued {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
}

pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    let caller = match authenticate(state, req, Level::Full).await {
        Ok(c) => c,
        // A first factor alone is no sign-in a product may see.
        Err(e) if e.code == "mfa_required" => return Err(unauthenticated()),
        Err(e) => return Err(e),
    };
    let tenant = caller
        .tenant
        .as_ref()
        .ok_or_else(porter_shared::auth::session::tenant_suspended)?;
    let config = &state.config;
    let issuer = config.public_base_url.as_str().trim_end_matches('/');
    let claims = AccessClaims::for_session(
        issuer,
        &config.token_audience,
        &caller.session,
        &caller.user,
        tenant,
        Timestamp::now(),
        new_jti(&mut rand::rngs::OsRng),
    )
    .ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "no_role",
            "Your account has no role yet. Ask your administrator for one.",
        )
    })?;
    let token = access_tokens::sign(state, &claims)
        .await
        .map_err(|e| ApiError::internal("access token", &e))?;
    // Answers are `Cache-Control: no-store` unless a handler says otherwise.
    Ok(json(
        StatusCode::OK,
        &Issued {
            access_token: token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_SECS,
        },
    ))
}
