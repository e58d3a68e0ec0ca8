//! `POST /api/account/password {current_password, password, password_confirm}`: the same
//! policy as activation (422 `password_weak` / `password_mismatch`); a wrong current password
//! is 401 `invalid_credentials` and counts like a wrong password at sign-in. The change ends
//! every other session, renews this one, and is emailed. Users whose sign-in goes to their
//! company's identity provider have no password here (409 `managed_by_idp`).

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::{PasswordGuess, SignInGuesses};
use porter_shared::auth::second_factor::{notify_change, Rotation};
use porter_shared::auth::session::authenticate_with;
use porter_shared::credentials::password;
use porter_shared::domain::password::{Password, PasswordError};
use porter_shared::domain::{Action, AuditEvent, Level, SessionOwner, Timestamp};
use porter_shared::http::{
    client_ip, json_with_cookie, parse_json, ApiError, HandlerResult, Request,
};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::users::CredentialChange;
use porter_shared::store::Writes;
use porter_shared::AppState;
use rand::rngs::OsRng;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
struct ChangeRequest {
    current_password: String,
    password: String,
    password_confirm: String,
}

/// Four requests one after the other: the session; the user, tenant and the tenant's single
/// sign-on configuration together; the guess counters (keyed by the user's address) and the
/// address's domain route together; then, once the current password is judged, one
/// transaction that counts the guess with what it leads to: the new password, the end of
/// every other session and this one's new id, and the event (or the failure's event). A
/// domain routed to another tenant's configuration costs one read more.
pub async fn change(state: &AppState, req: &Request) -> HandlerResult {
    let ip = client_ip(req);
    let with_sso = |s: &SessionOwner| Fetch::default().sso(&s.tenant);
    let mut caller = authenticate_with(state, req, Level::Full, with_sso).await?;
    let body: ChangeRequest = parse_json(req)?;
    let own_sso = caller.more.sso.take();
    let caller = caller;
    let user = &caller.user;
    let now = Timestamp::now();
    let counters = SignInGuesses::counters(user.email.as_str(), &ip);
    let mut found = state
        .store
        .fetch(
            &Fetch::default()
                .counters(counters.clone())
                .domain_route(user.email.domain()),
        )
        .await?;
    if let Some(tid) = found.domain_tenant.take() {
        let (sso, _) = match own_sso {
            Some(own) if tid == user.tenant => own,
            _ => state.store.get_sso(&tid).await?,
        };
        if sso.route(user.email.domain()).is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "managed_by_idp",
                "Your password is managed by your company's identity provider; change it there.",
            ));
        }
    }
    let guess = PasswordGuess::allowed(counters, found.counters, None, now)?;
    let current = SecretString::from(body.current_password);
    if !password::verify(current, caller.credentials.password_hash.as_ref()).await {
        let events =
            [AuditEvent::by(user, Action::AccountPassword, Some(user), &ip).outcome("failure")];
        let failure = || state.store.failure_writes(None, &events, &mut OsRng);
        guess.settle(state, false, failure).await?;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "Your current password is not correct.",
        ));
    }
    let context = [
        user.email.as_str(),
        user.email.local_part(),
        &state.config.product_name,
    ];
    let checked = match Password::new(&body.password, &body.password_confirm, &context) {
        Ok(p) => porter_shared::breached::refuse_breached(&state.config, &p)
            .await
            .map(|()| p),
        Err(e) => Err(e),
    };
    let password = match checked {
        Ok(p) => p,
        Err(e) => {
            // The current password was right: the account's counters start afresh.
            guess.settle(state, true, || Ok(Writes::none())).await?;
            let e: PasswordError = e;
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                e.code(),
                e.to_string(),
            ));
        }
    };
    let hash = password::hash(&password)
        .await
        .map_err(|e| ApiError::internal("password hash", &e))?;
    let events = [AuditEvent::by(
        user,
        Action::AccountPassword,
        Some(user),
        &ip,
    )];
    let change = CredentialChange::password(&hash, now.0);
    let rotation = Rotation::of(&caller, now);
    let writes = || rotation.writes(state, &caller, &change, &events);
    Rotation::settled(guess.settle(state, true, writes).await?)?;
    notify_change(
        state,
        user,
        "The password of your account was changed.",
        now,
    )
    .await;
    Ok(json_with_cookie(
        StatusCode::OK,
        &Changed {
            message: "Password changed. Your other sessions were signed out.",
        },
        rotation.cookie(state),
    ))
}

#[derive(Serialize)]
struct Changed {
    message: &'static str,
}
