//! Setting a password from an emailed one-time link: `POST /api/activation` (invitation) and
//! `POST /api/password/reset` (forgot password) share the whole flow; only the link's kind,
//! the user state it expects and the wording differ.

use lambda_http::http::StatusCode;
use porter_shared::auth::second_factor;
use porter_shared::credentials::password::{self, HashError};
use porter_shared::domain::token::token_state;
use porter_shared::domain::{
    Action, AuditEvent, Password, PasswordError, Timestamp, TokenHash, TokenKind, TokenRecord,
    TokenState, UserRecord, UserStatus,
};
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::store::StoreError;
use porter_shared::AppState;
use serde::Deserialize;
use serde::Serialize;

/// No `Debug`: it holds a password.
#[derive(Deserialize)]
struct SetPasswordRequest {
    token: String,
    password: String,
    password_confirm: String,
}

#[derive(Debug, thiserror::Error)]
enum LinkError {
    #[error("not valid")]
    Invalid,
    #[error("used")]
    Used,
    #[error("expired")]
    Expired,
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("hash: {0}")]
    Hash(#[from] HashError),
}

fn message(kind: TokenKind, e: &LinkError) -> String {
    match (kind, e) {
        (TokenKind::Activation, LinkError::Invalid) => {
            "This activation link is not valid. Check that you opened the whole link from the email.".into()
        }
        (TokenKind::Activation, LinkError::Used) => {
            "This activation link has already been used. Sign in with your email and password.".into()
        }
        (TokenKind::Activation, LinkError::Expired) => {
            "This activation link has expired. We can email you a new one.".into()
        }
        (TokenKind::Reset, LinkError::Invalid) => "This reset link is not valid. Ask for a new one from the sign-in page.".into(),
        (TokenKind::Reset, LinkError::Used) => {
            "This reset link has already been used. Ask for a new one if you still need it.".into()
        }
        (TokenKind::Reset, LinkError::Expired) => "This reset link has expired. Ask for a new one from the sign-in page.".into(),
        (_, e) => e.to_string(),
    }
}

fn api_error(kind: TokenKind, e: LinkError) -> ApiError {
    let msg = message(kind, &e);
    match e {
        LinkError::Invalid => ApiError::new(StatusCode::NOT_FOUND, "token_invalid", msg),
        LinkError::Used => ApiError::new(StatusCode::CONFLICT, "token_used", msg),
        LinkError::Expired => ApiError::new(StatusCode::GONE, "token_expired", msg),
        LinkError::Password(p) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, p.code(), msg),
        LinkError::Store(_) | LinkError::Hash(_) => {
            ApiError::internal("setting the password failed", &e)
        }
    }
}

/// `POST /api/activation`: an invited person sets their first password.
pub async fn activation(state: &AppState, req: &Request) -> HandlerResult {
    handle(state, req, TokenKind::Activation).await
}

/// `POST /api/password/reset`: a person who forgot their password sets a new one.
pub async fn reset(state: &AppState, req: &Request) -> HandlerResult {
    handle(state, req, TokenKind::Reset).await
}

async fn handle(state: &AppState, req: &Request, kind: TokenKind) -> HandlerResult {
    let body: SetPasswordRequest = parse_json(req)?;
    set_password(state, &body, kind, &client_ip(req), Timestamp::now())
        .await
        .map_err(|e| api_error(kind, e))?;
    Ok(json(
        StatusCode::OK,
        &PasswordSet {
            status: match kind {
                TokenKind::Activation => "active",
                TokenKind::Reset => "password_changed",
            },
            next: "/login",
        },
    ))
}

/// Reads the token and its user and says whether the link may set a password now. Only the
/// user's newest link of the kind works: asking for a new one replaces the previous one.
async fn check_link(
    state: &AppState,
    raw_token: &str,
    kind: TokenKind,
    now: Timestamp,
) -> Result<(TokenRecord, UserRecord), LinkError> {
    let hash = TokenHash::of_presented(raw_token).ok_or(LinkError::Invalid)?;
    let token = state
        .store
        .get_token(&hash)
        .await?
        .filter(|t| t.kind == kind)
        .ok_or(LinkError::Invalid)?;
    let user = state
        .store
        .get_user(&token.tenant, &token.user)
        .await?
        .ok_or(LinkError::Invalid)?;
    let pending = match (kind, user.status) {
        // Whichever invitation link did it, the account is set up: send the person to sign-in.
        (TokenKind::Activation, UserStatus::Active) => return Err(LinkError::Used),
        (TokenKind::Activation, UserStatus::Invited) => &user.pending_token,
        (TokenKind::Reset, UserStatus::Active) => &user.pending_reset,
        (TokenKind::Reset, UserStatus::Invited) => return Err(LinkError::Invalid),
    };
    let superseded = pending.as_ref() != Some(&hash);
    match token_state(token.used, superseded, token.expires_at, now) {
        TokenState::Usable => Ok((token, user)),
        TokenState::Used => Err(LinkError::Used),
        TokenState::Expired => Err(LinkError::Expired),
    }
}

#[tracing::instrument(skip_all, fields(kind = kind.as_str()))]
async fn set_password(
    state: &AppState,
    body: &SetPasswordRequest,
    kind: TokenKind,
    source_ip: &str,
    now: Timestamp,
) -> Result<(), LinkError> {
    let (token, user) = check_link(state, &body.token, kind, now).await?;
    let context = [
        user.email.as_str(),
        user.email.local_part(),
        &state.config.product_name,
    ];
    let password = Password::new(&body.password, &body.password_confirm, &context)?;
    porter_shared::breached::refuse_breached(&state.config, &password).await?;
    let hash = password::hash(&password).await?;
    let action = match kind {
        TokenKind::Activation => Action::UserActivate,
        TokenKind::Reset => Action::PasswordReset,
    };
    let audit = AuditEvent::by(&user, action, Some(&user), source_ip);
    match state
        .store
        .set_password_with_token(
            &token,
            user.role,
            &hash,
            now,
            &audit,
            &mut rand::rngs::OsRng,
        )
        .await
    {
        Ok(()) => {
            tracing::info!(tenant = %user.tenant, user = %user.id, "password set");
            if kind == TokenKind::Reset {
                let what = "The password of your account was reset.";
                second_factor::notify_change(state, &user, what, now).await;
            }
            Ok(())
        }
        // Lost a race with another use of the link (or it expired meanwhile): say which.
        Err(StoreError::Conflict { .. }) => match check_link(state, &body.token, kind, now).await {
            Err(e) => Err(e),
            Ok(_) => Err(LinkError::Used),
        },
        Err(e) => Err(e.into()),
    }
}

/// The answer of a password set from a link: what the account is now, and where to go.
#[derive(Serialize)]
struct PasswordSet {
    status: &'static str,
    next: &'static str,
}
