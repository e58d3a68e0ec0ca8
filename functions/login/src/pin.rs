//! Sign-in with an emailed PIN, for organisations that turned it on (the password page offers
//! it to everyone: the answers never tell who exists).
//!
//! - `POST /api/login/pin/request {email}` → 202 always, after the same floor as "forgot
//!   password". When the address belongs to an active (or invited) user of a tenant with
//!   `email_pin` on and not routed to single sign-on, an 8-digit PIN is emailed: 10 minutes,
//!   single use, a new one replaces the last; at most 3 emails per address and source address
//!   per 15 minutes and 10 per address per hour.
//! - `POST /api/login/pin {email, pin}` → exactly what the password step gives: a session at
//!   level `password`, `next: mfa_enroll | mfa_verify`. Every failure is 401
//!   `invalid_credentials` after the same work (the same requests, one argon2id check); tries
//!   count like wrong passwords; five wrong ones from a source address end that source's tries
//!   at the PIN, twenty in all kill it, so a stranger cannot spend the owner's. An invited user who signs in
//!   this way is activated (their invitation link stops working).

use crate::floor::hand_over;
use crate::password::invalid_credentials;
use lambda_http::http::StatusCode;
use porter_shared::auth::guard::{pin_emails_limited, PasswordGuess, SignInGuesses, Verdict};
use porter_shared::auth::session::presented_device;
use porter_shared::auth::sign_in::{self, Proved, Seen};
use porter_shared::credentials::password;
use porter_shared::domain::pin::{self, PinRecord};
use porter_shared::domain::{Action, AuditEvent, Email, Timestamp, UserRecord, UserStatus};
use porter_shared::http::Notice;
use porter_shared::http::{
    client_ip, json, parse_json, user_agent, ApiError, HandlerResult, Request,
};
use porter_shared::mail::queue::MailJob;
use porter_shared::store::fetch::Fetch;
use porter_shared::store::Writes;
use porter_shared::AppState;
use rand::rngs::OsRng;
use secrecy::SecretString;
use serde::Deserialize;

#[derive(Deserialize)]
struct PinRequest {
    email: String,
}

pub async fn request(state: &AppState, req: &Request) -> HandlerResult {
    let started = tokio::time::Instant::now();
    let body: PinRequest = parse_json(req)?;
    let ip = client_ip(req);
    let limited = pin_emails_limited(state, &body.email, &ip, Timestamp::now()).await?;
    let job = MailJob::SignInPin {
        email: body.email,
        ip,
    };
    hand_over(state, started, limited, job).await?;
    Ok(json(
        StatusCode::ACCEPTED,
        &Notice {
            status: "accepted",
            message: "If this address can sign in with a code, one is on its way. It works once, for ten minutes.",
        },
    ))
}

#[derive(Deserialize)]
struct PinSignIn {
    email: String,
    pin: String,
}

/// Three requests one after the other, like the password step: the guess counters with the
/// address's PIN; the user and tenant the PIN names; then, once the PIN is judged, one
/// transaction that counts the guess with what it leads to (the PIN spent, an invited user
/// activated, the session; or one more try on the PIN). Nobody learns a verdict that was not
/// counted.
pub async fn sign_in(state: &AppState, req: &Request) -> HandlerResult {
    let body: PinSignIn = parse_json(req)?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let typed = pin::typed(&body.pin);
    let email = Email::parse(&body.email).ok();
    let address = email.as_ref().map(|e| e.as_str().to_owned());
    let keys = SignInGuesses::counters(&body.email, &ip);
    let device = presented_device(req, state);
    let mut first = Fetch::default()
        .counters(keys.clone())
        .counters(device.as_ref().map(PasswordGuess::device_key))
        .device(device);
    if let Some(e) = &email {
        first = first
            .pin(e.as_str(), &ip)
            .email_index(e)
            .domain_route(e.domain());
    }
    let first = state.store.fetch(&first).await?;
    let pin = first.pin.filter(|p| p.is_usable(now));
    let device = (first.device).filter(|d| d.names(first.email_ids.as_ref(), now));
    let guess = PasswordGuess::allowed(keys, first.counters, device, now)?;
    let named = pin.as_ref().map(|p| (p.tenant.clone(), p.user.clone()));
    let second = Fetch::sign_in_target(named, first.domain_tenant.as_ref());
    let mut found = state.store.fetch(&second).await?;
    let guess = guess.confirm_device(found.user.as_ref().map(|(u, _)| u))?;
    // An address routed to its organisation's identity provider since the PIN was sent signs
    // in there: the PIN fails like a wrong one.
    let routed = found.routes(email.as_ref());
    // With no PIN to try, the same argon2id work is done against the dummy hash.
    let stored = pin
        .as_ref()
        .filter(|_| typed.is_some())
        .map(|p| SecretString::from(p.hash.clone()));
    let candidate = SecretString::from(typed.unwrap_or_default());
    let matches = password::verify(candidate, stored.as_ref()).await;
    let address = address.unwrap_or_default();
    let (pin, user, tenant) = match (pin, found.user.take(), found.tenant.take()) {
        (Some(pin), Some((user, _)), Some(tenant)) if matches && tenant.email_pin && !routed => {
            (pin, user, tenant)
        }
        (pin, _, _) => return Err(wrong(state, &guess, &address, pin.as_ref(), &ip).await),
    };

    // An invited user who signs in this way is activated: their invitation link stops working.
    let activated = (user.status == UserStatus::Invited)
        .then(|| AuditEvent::by(&user, Action::UserActivate, Some(&user), &ip).outcome("pin"));
    let active = UserRecord {
        status: UserStatus::Active,
        ..user.clone()
    };
    let seen = Seen {
        ip: &ip,
        user_agent: &user_agent(req),
        device: None,
        proved_before: &[],
    };
    let new = match sign_in::begin(Proved::Pin, &active, Some(&tenant), seen, vec![], now) {
        Ok(new) => new,
        Err(refused) => {
            let spend = || state.store.pin_spend_write(&address, &pin);
            guess.settle(state, true, spend).await?;
            return Err(refused);
        }
    };
    let writes = || {
        state.store.pin_sign_in_writes(
            &address,
            &pin,
            &user,
            activated.as_ref(),
            &new.record,
            &new.events,
            &mut OsRng,
        )
    };
    match guess.settle(state, true, writes).await? {
        Verdict::Settled => Ok(new.json(&state.config)),
        // The PIN was spent, replaced or tried meanwhile: the guess was not counted.
        Verdict::Refused { index: 0 } => Err(ApiError::throttled(1)),
        Verdict::Refused { index: 1 } if activated.is_some() => Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "Your account changed meanwhile. Ask for a new code.",
        )),
        Verdict::Refused { .. } => Err(ApiError::internal("sign-in", &"new session refused")),
    }
}

/// A wrong PIN (or none to try): one more try on the PIN, when there is one, counted with the
/// guess and a trace of it like a wrong password's; every failure looks the same.
async fn wrong(
    state: &AppState,
    guess: &PasswordGuess,
    address: &str,
    pin: Option<&PinRecord>,
    ip: &str,
) -> ApiError {
    let then = || {
        let tried = match pin {
            Some(p) => state.store.pin_try_write(address, ip, p)?,
            None => Writes::none(),
        };
        let trace = state
            .store
            .unregistered_failure_writes(guess.account(), ip)?;
        Ok(tried.and(trace))
    };
    match guess.settle(state, false, then).await {
        Ok(Verdict::Settled) => invalid_credentials(),
        // Another guess at the same PIN was counted first: this one was not; try again.
        Ok(Verdict::Refused { .. }) => ApiError::throttled(1),
        Err(e) => e,
    }
}
