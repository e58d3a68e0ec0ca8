//! `POST /api/login/password {email, password}`: the first factor. Success gives a session at
//! level `password`, good only for enrolling or checking a second factor.
//!
//! Unknown email, invited user and wrong password answer alike (401 `invalid_credentials`),
//! after the same work: the same requests and one argon2id verification (against a dummy hash
//! when there is no real one). Failures count per typed email and per source address, or, from
//! a browser whose device cookie is the typed address's user's, on that device alone.

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::{PasswordGuess, SignInGuesses, Verdict};
use porter_shared::auth::session::presented_device;
use porter_shared::auth::sign_in::{self, Proved, Seen};
use porter_shared::credentials::password;
use porter_shared::domain::{Action, AuditEvent, Email, Timestamp, UserStatus};
use porter_shared::http::{client_ip, parse_json, user_agent, ApiError, HandlerResult, Request};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::Writes;
use porter_shared::AppState;
use rand::rngs::OsRng;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Deserialize)]
struct PasswordRequest {
    email: String,
    password: String,
}

pub(crate) fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "The email or password is not correct.",
    )
}

/// Three requests one after the other, the same for every address and outcome: the guess
/// counters, the email index and the domain's single sign-on route together; the user, tenant
/// and single sign-on settings together; then, once the password is judged, one transaction
/// that counts the guess with what it leads to (the session and its audit event, or the
/// failure's event). Nobody learns the verdict of a guess that was not counted.
pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    let body: PasswordRequest = parse_json(req)?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let email = Email::parse(&body.email).ok();
    let keys = SignInGuesses::counters(&body.email, &ip);
    let device = presented_device(req, state);
    let mut first = Fetch::default()
        .counters(keys.clone())
        .counters(device.as_ref().map(PasswordGuess::device_key))
        .device(device);
    if let Some(e) = &email {
        first = first.email_index(e).domain_route(e.domain());
    }
    let first = state.store.fetch(&first).await?;
    let device = (first.device).filter(|d| d.names(first.email_ids.as_ref(), now));
    let guess = PasswordGuess::allowed(keys, first.counters, device, now)?;
    let second = Fetch::sign_in_target(first.email_ids, first.domain_tenant.as_ref());
    let mut found = state.store.fetch(&second).await?;
    let guess = guess.confirm_device(found.user.as_ref().map(|(u, _)| u))?;
    let stored_hash = found
        .user
        .as_ref()
        .filter(|(u, _)| u.status == UserStatus::Active)
        .and_then(|(_, c)| c.password_hash.as_ref());
    let matches = password::verify(SecretString::from(body.password), stored_hash).await;
    // A leaked old password must not bypass the customer's identity provider: an address
    // routed to single sign-on fails here exactly like a wrong password.
    let routed = found.routes(email.as_ref());

    let user = match found.user.take() {
        Some((user, _)) if matches && !routed => user,
        Some((user, _)) => {
            let events = [
                AuditEvent::by(&user, Action::LoginPassword, Some(&user), &ip).outcome("failure"),
            ];
            let failure = || state.store.failure_writes(None, &events, &mut OsRng);
            guess.settle(state, false, failure).await?;
            return Err(invalid_credentials());
        }
        // Same write for an address nobody has: the same work, and a trace of the try.
        None => {
            let failure = || {
                state
                    .store
                    .unregistered_failure_writes(guess.account(), &ip)
            };
            guess.settle(state, false, failure).await?;
            return Err(invalid_credentials());
        }
    };

    let seen = Seen {
        ip: &ip,
        user_agent: &user_agent(req),
        device: None,
        proved_before: &[],
    };
    let new = match sign_in::begin(
        Proved::Password,
        &user,
        found.tenant.as_ref(),
        seen,
        vec![],
        now,
    ) {
        Ok(new) => new,
        Err(refused) => {
            guess.settle(state, true, || Ok(Writes::none())).await?;
            return Err(refused);
        }
    };
    let start = || {
        let events = &new.events;
        state
            .store
            .session_writes(&new.record, &user, events, &mut OsRng)
    };
    match guess.settle(state, true, start).await? {
        Verdict::Settled => Ok(new.json(&state.config)),
        // Only a fresh session id could fail its condition: never, but not a success either.
        Verdict::Refused { .. } => Err(ApiError::internal("sign-in", &"new session refused")),
    }
}
