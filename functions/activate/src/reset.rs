//! `POST /api/password/reset {token, password, password_confirm}`: a new password from the
//! emailed reset link. Every session of the user ends; the second factor stays required.

use lambda_http::http::StatusCode;
use porter_shared::auth::password::{self, HashError};
use porter_shared::domain::token::token_state;
use porter_shared::domain::{
    Password, PasswordError, Timestamp, TokenHash, TokenKind, TokenState, UserStatus,
};
use porter_shared::http::{client_ip, json, parse_json, ApiError, Body, Request, Response};
use porter_shared::store::{AuditEvent, StoreError, TokenRecord, UserRecord};
use porter_shared::AppState;
use serde::Deserialize;
use serde_json::json as j;

#[derive(Deserialize)]
struct ResetRequest {
    token: String,
    password: String,
    password_confirm: String,
}

#[derive(Debug, thiserror::Error)]
enum ResetError {
    #[error("This reset link is not valid. Ask for a new one from the sign-in page.")]
    Invalid,
    #[error("This reset link has already been used. Ask for a new one if you still need it.")]
    Used,
    #[error("This reset link has expired. Ask for a new one from the sign-in page.")]
    Expired,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("hash: {0}")]
    Hash(#[from] HashError),
}

impl From<ResetError> for ApiError {
    fn from(e: ResetError) -> Self {
        let msg = e.to_string();
        match e {
            ResetError::Invalid => ApiError::new(StatusCode::NOT_FOUND, "token_invalid", msg),
            ResetError::Used => ApiError::new(StatusCode::CONFLICT, "token_used", msg),
            ResetError::Expired => ApiError::new(StatusCode::GONE, "token_expired", msg),
            ResetError::Password(p) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, p.code(), msg)
            }
            ResetError::Store(_) | ResetError::Hash(_) => {
                ApiError::internal("password reset failed", &e)
            }
        }
    }
}

pub async fn handle(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: ResetRequest = parse_json(req)?;
    reset(state, &body, &client_ip(req), Timestamp::now()).await?;
    Ok(json(
        StatusCode::OK,
        &j!({ "status": "password_changed", "next": "/login" }),
    ))
}

async fn check_link(
    state: &AppState,
    raw: &str,
    now: Timestamp,
) -> Result<(TokenRecord, UserRecord), ResetError> {
    let hash = TokenHash::of_presented(raw).ok_or(ResetError::Invalid)?;
    let token = state
        .store
        .get_token(&hash)
        .await?
        .filter(|t| t.kind == TokenKind::Reset)
        .ok_or(ResetError::Invalid)?;
    let user = state
        .store
        .get_user(&token.tenant, &token.user)
        .await?
        .filter(|u| u.status == UserStatus::Active)
        .ok_or(ResetError::Invalid)?;
    // Only the newest link works: asking again replaces the previous one.
    let superseded = user.pending_reset.as_ref() != Some(&hash);
    match token_state(token.used, superseded, token.expires_at, now) {
        TokenState::Usable => Ok((token, user)),
        TokenState::Used => Err(ResetError::Used),
        TokenState::Expired => Err(ResetError::Expired),
    }
}

async fn reset(
    state: &AppState,
    body: &ResetRequest,
    ip: &str,
    now: Timestamp,
) -> Result<(), ResetError> {
    let (token, user) = check_link(state, &body.token, now).await?;
    let context = [
        user.email.as_str(),
        user.email.local_part(),
        &state.config.product_name,
    ];
    let password = Password::new(&body.password, &body.password_confirm, &context)?;
    let hash = password::hash(&password).await?;
    let audit = AuditEvent::by_user(&user, "password.reset", "success", ip);
    match state
        .store
        .reset_password(&token, &hash, now, &audit, &mut rand::rngs::OsRng)
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::Conflict { .. }) => match check_link(state, &body.token, now).await {
            Err(e) => Err(e),
            Ok(_) => Err(ResetError::Used),
        },
        Err(e) => Err(e.into()),
    }
}
