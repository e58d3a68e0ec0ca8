//! How the organisation's people may sign in. Two resources, so that the first keeps its
//! answer exactly (`{email_pin}`) for the clients written against it:
//!
//! - `GET`/`PUT /api/config/signin {email_pin}`: with a PIN emailed to them instead of their
//!   password (the second factor is still asked for). Off by default.
//! - `GET`/`PUT /api/config/signin/options {passkey_sign_in, sms_mfa}`: with a passkey alone,
//!   from the first page (on by default); with a code sent by text message as a second factor
//!   (off by default: NIST SP 800-63B treats it as a restricted authenticator). A `PUT`
//!   changes the options it names and leaves the other; the answer is both as they now stand.
//!
//! Each change is audited.

use lambda_http::http::StatusCode;
use porter_shared::auth::access::{self, Admin};
use porter_shared::domain::{Action, SignInOption, TenantRecord};
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::AppState;
use serde::{Deserialize, Serialize};

/// Sign-in with an emailed PIN, as asked for and as answered.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct EmailPin {
    email_pin: bool,
}

pub async fn get(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    let email_pin = admin.tenant.email_pin;
    Ok(json(StatusCode::OK, &EmailPin { email_pin }))
}

pub async fn put(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    let body: EmailPin = parse_json(req)?;
    let now = change(
        state,
        req,
        admin,
        &[(SignInOption::EmailPin, body.email_pin)],
    )
    .await?;
    let email_pin = now.email_pin;
    Ok(json(StatusCode::OK, &EmailPin { email_pin }))
}

/// The other sign-in options, as answered.
#[derive(Serialize)]
struct Options {
    passkey_sign_in: bool,
    sms_mfa: bool,
}

impl Options {
    fn of(t: &TenantRecord) -> Self {
        Self {
            passkey_sign_in: t.passkey_sign_in,
            sms_mfa: t.sms_mfa,
        }
    }
}

/// The options a `PUT` changes; those left out stay as they are.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionChanges {
    passkey_sign_in: Option<bool>,
    sms_mfa: Option<bool>,
}

pub async fn get_options(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    Ok(json(StatusCode::OK, &Options::of(&admin.tenant)))
}

pub async fn put_options(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    let body: OptionChanges = parse_json(req)?;
    let changes: Vec<(SignInOption, bool)> = [
        (SignInOption::PasskeySignIn, body.passkey_sign_in),
        (SignInOption::SmsMfa, body.sms_mfa),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.map(|v| (name, v)))
    .collect();
    if changes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Name at least one option: passkey_sign_in or sms_mfa.",
        ));
    }
    let now = change(state, req, admin, &changes).await?;
    Ok(json(StatusCode::OK, &Options::of(&now)))
}

/// Stores `changes` with an audit event each, in one transaction; the tenant as it now is.
async fn change(
    state: &AppState,
    req: &Request,
    admin: Admin,
    changes: &[(SignInOption, bool)],
) -> Result<TenantRecord, ApiError> {
    let ip = client_ip(req);
    let events: Vec<_> = changes
        .iter()
        .map(|(option, on)| {
            let outcome = option.outcome(*on);
            admin
                .event(Action::ConfigSignin, None, &ip)
                .outcome(outcome)
        })
        .collect();
    let mut rng = rand::rngs::OsRng;
    let tid = &admin.tenant.id;
    state
        .store
        .set_sign_in_options(tid, changes, &events, &mut rng)
        .await?;
    let now = changes
        .iter()
        .fold(admin.tenant, |t, (option, on)| t.with_option(*option, *on));
    Ok(now)
}
