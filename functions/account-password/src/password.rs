//! `POST /api/account/password {current_password, password, password_confirm}`: the same
//! policy as activation (422 `password_weak` / `password_mismatch`); a wrong current password
//! is 401 `invalid_credentials` and counts like a wrong password at sign-in. The change ends
//! every other session, renews this one, and is emailed. Users whose sign-in goes to their
//! company's identity provider have no password here (409 `managed_by_idp`).

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::SignInGuesses;
use porter_shared::auth::second_factor::{end_other_sessions, notify_change};
use porter_shared::auth::session::authenticate;
use porter_shared::credentials::password::{self as hashing, verify_blocking};
use porter_shared::domain::password::{Password, PasswordError};
use porter_shared::domain::{Action, AuditEvent, Level, Timestamp};
use porter_shared::http::{
    client_ip, json_with_cookie, parse_json, ApiError, HandlerResult, Request,
};
use porter_shared::store::users::CredentialChange;
use porter_shared::{sso, AppState};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json as j;

#[derive(Deserialize)]
struct ChangeRequest {
    current_password: String,
    password: String,
    password_confirm: String,
}

pub async fn change(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    let body: ChangeRequest = parse_json(req)?;
    let user = &caller.user;
    if sso::route_for(state, &user.email).await?.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "managed_by_idp",
            "Your password is managed by your company's identity provider; change it there.",
        ));
    }
    let ip = client_ip(req);
    let now = Timestamp::now();
    let guesses = SignInGuesses::check(state, user.email.as_str(), &ip, now).await?;
    let stored = caller
        .credentials
        .password_hash
        .as_ref()
        .map(|h| h.expose_secret().to_owned());
    let current = SecretString::from(body.current_password);
    let matches = tokio::task::spawn_blocking(move || {
        stored.is_some_and(|h| {
            current.expose_secret().len() <= 1024 && verify_blocking(current.expose_secret(), &h)
        })
    })
    .await
    .unwrap_or(false);
    if !matches {
        let event =
            AuditEvent::by(user, Action::AccountPassword, Some(user), &ip).outcome("failure");
        state.store.audit(&event).await;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Your current password is not correct.",
        ));
    }
    guesses.succeeded(state).await;
    let context = [
        user.email.as_str(),
        user.email.local_part(),
        &state.config.product_name,
    ];
    let password = Password::new(&body.password, &body.password_confirm, &context).map_err(
        |e: PasswordError| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()),
    )?;
    let hash = hashing::hash(&password)
        .await
        .map_err(|e| ApiError::internal("password hash", &e))?;
    let event = AuditEvent::by(user, Action::AccountPassword, Some(user), &ip);
    let change = CredentialChange::password(&hash, now.0);
    let cookie = end_other_sessions(state, &caller, &change, &[event]).await?;
    notify_change(
        state,
        user,
        "The password of your account was changed.",
        now,
    )
    .await;
    Ok(json_with_cookie(
        StatusCode::OK,
        &j!({ "message": "Password changed. Your other sessions were signed out." }),
        cookie,
    ))
}
