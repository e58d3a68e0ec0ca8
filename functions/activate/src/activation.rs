//! `POST /api/activation {token, password, password_confirm}`.

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

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
struct ActivationRequest {
    token: String,
    password: String,
    password_confirm: String,
}

#[derive(Debug, thiserror::Error)]
enum ActivationError {
    #[error(
        "This activation link is not valid. Check that you opened the whole link from the email."
    )]
    Invalid,
    #[error("This activation link has already been used. Sign in with your email and password.")]
    Used,
    #[error("This activation link has expired. We can email you a new one.")]
    Expired,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("hash: {0}")]
    Hash(#[from] HashError),
}

impl From<ActivationError> for ApiError {
    fn from(e: ActivationError) -> Self {
        let msg = e.to_string();
        match e {
            ActivationError::Invalid => ApiError::new(StatusCode::NOT_FOUND, "token_invalid", msg),
            ActivationError::Used => ApiError::new(StatusCode::CONFLICT, "token_used", msg),
            ActivationError::Expired => ApiError::new(StatusCode::GONE, "token_expired", msg),
            ActivationError::Password(p) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, p.code(), msg)
            }
            ActivationError::Store(_) | ActivationError::Hash(_) => {
                ApiError::internal("activation failed", &e)
            }
        }
    }
}

pub async fn handle(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: ActivationRequest = parse_json(req)?;
    activate(state, &body, &client_ip(req), Timestamp::now()).await?;
    Ok(json(
        StatusCode::OK,
        &j!({ "status": "active", "next": "/login" }),
    ))
}

/// Reads the token and its user and says whether the link may set a password now.
async fn check_link(
    state: &AppState,
    raw_token: &str,
    now: Timestamp,
) -> Result<(TokenRecord, UserRecord), ActivationError> {
    let hash = TokenHash::of_presented(raw_token).ok_or(ActivationError::Invalid)?;
    let token = state
        .store
        .get_token(&hash)
        .await?
        .filter(|t| t.kind == TokenKind::Activation)
        .ok_or(ActivationError::Invalid)?;
    let user = state
        .store
        .get_user(&token.tenant, &token.user)
        .await?
        .ok_or(ActivationError::Invalid)?;
    if user.status == UserStatus::Active {
        // Whichever link did it, the account is set up: send the person to sign-in.
        return Err(ActivationError::Used);
    }
    let superseded = user.pending_token.as_ref() != Some(&hash);
    match token_state(token.used, superseded, token.expires_at, now) {
        TokenState::Usable => Ok((token, user)),
        TokenState::Used => Err(ActivationError::Used),
        TokenState::Expired => Err(ActivationError::Expired),
    }
}

#[tracing::instrument(skip_all)]
async fn activate(
    state: &AppState,
    body: &ActivationRequest,
    source_ip: &str,
    now: Timestamp,
) -> Result<(), ActivationError> {
    let (token, user) = check_link(state, &body.token, now).await?;
    let context = [
        user.email.as_str(),
        user.email.local_part(),
        &state.config.product_name,
    ];
    let password = Password::new(&body.password, &body.password_confirm, &context)?;
    let hash = password::hash(&password).await?;
    let audit = AuditEvent {
        tenant: user.tenant.clone(),
        at: now,
        actor: user.id.to_string(),
        action: "user.activate",
        target: Some(user.id.to_string()),
        source_ip: source_ip.to_owned(),
        outcome: "success",
    };
    let mut rng = rand::rngs::OsRng;
    match state
        .store
        .activate_user(&token, &hash, now, &audit, &mut rng)
        .await
    {
        Ok(()) => {
            tracing::info!(tenant = %user.tenant, user = %user.id, "account activated");
            Ok(())
        }
        // Lost a race with another use of the link (or it expired meanwhile): say which.
        Err(StoreError::Conflict { .. }) => match check_link(state, &body.token, now).await {
            Err(e) => Err(e),
            Ok(_) => Err(ActivationError::Used),
        },
        Err(e) => Err(e.into()),
    }
}
