//! Sign-in with an emailed PIN, for organisations that turned it on (the password page offers
//! it to everyone: the answers never tell who exists).
//!
//! - `POST /api/login/pin/request {email}` → 202 always, after the same floor as "forgot
//!   password". When the address belongs to an active (or invited) user of a tenant with
//!   `email_pin` on and not routed to single sign-on, an 8-digit PIN is emailed: 10 minutes,
//!   single use, a new one replaces the last, at most 3 emails per address per 15 minutes.
//! - `POST /api/login/pin {email, pin}` → exactly what the password step gives: a session at
//!   level `password`, `next: mfa_enroll | mfa_verify`. Every failure is 401
//!   `invalid_credentials` after the same work (a try taken, one argon2id check); tries count
//!   like wrong passwords, and the fifth wrong one kills the PIN. An invited user who signs in
//!   this way is activated (their invitation link stops working).

use crate::floor::{addressee, at_floor};
use crate::password::{first_factor_passed, invalid_credentials, password_matches};
use lambda_http::http::StatusCode;
use porter_shared::auth::guard::{pin_emails_limited, SignInGuesses};
use porter_shared::credentials::password::hash_blocking;
use porter_shared::domain::pin::{self, PinRecord, PIN_LIFETIME_SECS};
use porter_shared::domain::{AuditEvent, Email, Timestamp, UserStatus};
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::mail::templates;
use porter_shared::{sso, AppState};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json as j;

#[derive(Deserialize)]
struct PinRequest {
    email: String,
}

pub async fn request(state: &AppState, req: &Request) -> HandlerResult {
    let started = tokio::time::Instant::now();
    let body: PinRequest = parse_json(req)?;
    let ip = client_ip(req);
    let limited = pin_emails_limited(state, &body.email, &ip, Timestamp::now()).await?;
    let (state_for_work, email) = (state.clone(), body.email);
    at_floor(started, async move {
        if limited {
            tracing::warn!("sign-in PIN: over the limit for this address or source; no email");
        } else if let Err(e) = send_pin(&state_for_work, &email, &ip).await {
            tracing::error!(error = %e, "sign-in PIN not sent");
        }
    })
    .await;
    Ok(json(
        StatusCode::ACCEPTED,
        &j!({ "status": "accepted", "message": "If this address can sign in with a code, one is on its way. It works once, for ten minutes." }),
    ))
}

async fn send_pin(
    state: &AppState,
    raw_email: &str,
    ip: &str,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let Some(user) = addressee(state, raw_email).await? else {
        return Ok(());
    };
    let (tid, uid) = (user.tenant.clone(), user.id.clone());
    let tenant = state.store.get_tenant(&tid).await?;
    let allowed = tenant.is_some_and(|t| t.email_pin && !t.is_suspended());
    if !allowed || sso::route_for(state, &user.email).await?.is_some() {
        return Ok(()); // not a PIN organisation, or its people sign in at their provider
    }
    let now = Timestamp::now();
    let code = pin::generate(&mut rand::rngs::OsRng);
    let secret = SecretString::from(code.expose_secret().to_owned());
    let hash = tokio::task::spawn_blocking(move || hash_blocking(secret.expose_secret())).await??;
    let record = PinRecord {
        tenant: tid,
        user: uid,
        hash,
        expires_at: now.plus_secs(PIN_LIFETIME_SECS),
    };
    // The same normalisation as the check: the key is the address as typed, lower-cased.
    state.store.put_pin(user.email.as_str(), &record).await?;
    let mail = templates::sign_in_pin(
        &state.config.product_name,
        code.expose_secret(),
        record.expires_at,
    );
    state.mailer().send(user.email.as_str(), &mail).await?;
    let event = AuditEvent::by(&user, "login.pin_requested", Some(&user), ip);
    state.store.audit(&event).await;
    Ok(())
}

#[derive(Deserialize)]
struct PinSignIn {
    email: String,
    pin: String,
}

pub async fn sign_in(state: &AppState, req: &Request) -> HandlerResult {
    let body: PinSignIn = parse_json(req)?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let guesses = SignInGuesses::check(state, &body.email, &ip, now).await?;
    let typed = pin::typed(&body.pin);
    let normal = Email::parse(&body.email)
        .map(|e| e.as_str().to_owned())
        .ok();
    // A try is taken before the PIN is judged; with no PIN to try, the same argon2id work is
    // done against the dummy hash.
    let taken = match (&typed, &normal) {
        (Some(_), Some(address)) => state.store.take_pin_try(address, now).await?,
        _ => None,
    };
    let stored = taken.as_ref().map(|r| SecretString::from(r.hash.clone()));
    let candidate = SecretString::from(typed.clone().unwrap_or_default());
    let matches = password_matches(candidate, stored.as_ref()).await;
    let record = match taken {
        Some(r) if matches && r.is_fresh(now) => r,
        _ => return Err(failed(state, &guesses, &ip).await),
    };
    let user = state.store.get_user(&record.tenant, &record.user).await?;
    let tenant = state.store.get_tenant(&record.tenant).await?;
    let (Some(mut user), Some(tenant)) = (user, tenant) else {
        return Err(failed(state, &guesses, &ip).await);
    };
    let address = normal.unwrap_or_default();
    if !tenant.email_pin || !state.store.spend_pin(&address, &record.hash).await? {
        return Err(failed(state, &guesses, &ip).await);
    }
    guesses.succeeded(state).await;
    if user.status == UserStatus::Invited {
        let event = AuditEvent::by(&user, "user.activate", Some(&user), &ip).outcome("pin");
        if !state
            .store
            .activate_by_pin(&user, now, &event, &mut rand::rngs::OsRng)
            .await?
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "Your account changed meanwhile. Ask for a new code.",
            ));
        }
        user.status = UserStatus::Active;
    }
    first_factor_passed(state, req, &user, Some(&tenant), "login.pin").await
}

/// Every failure looks the same; a trace of it is kept like a wrong password's.
async fn failed(state: &AppState, guesses: &SignInGuesses, ip: &str) -> ApiError {
    state
        .store
        .audit_unregistered_failure(guesses.account(), ip)
        .await;
    invalid_credentials()
}
