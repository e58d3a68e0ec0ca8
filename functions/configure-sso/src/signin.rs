//! `GET`/`PUT /api/config/signin {email_pin, passkey_sign_in, sms_mfa}`: how the
//! organisation's people may sign in.
//!
//! - `email_pin`: with a PIN emailed to them instead of their password (the second factor is
//!   still asked for). Off by default.
//! - `passkey_sign_in`: with a passkey alone, from the first page. On by default.
//! - `sms_mfa`: with a code sent by text message as a second factor. Off by default: NIST
//!   SP 800-63B treats it as a restricted authenticator.
//!
//! A `PUT` changes the options it names and leaves the others; each change is audited. The
//! answer is every option as it now stands.

use lambda_http::http::StatusCode;
use porter_shared::auth::access;
use porter_shared::domain::{Action, TenantRecord};
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::AppState;
use serde::{Deserialize, Serialize};

pub async fn get(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    Ok(json(StatusCode::OK, &SignInOptions::of(&admin.tenant)))
}

/// The organisation's sign-in options, as answered.
#[derive(Serialize)]
struct SignInOptions {
    email_pin: bool,
    passkey_sign_in: bool,
    sms_mfa: bool,
}

impl SignInOptions {
    fn of(t: &TenantRecord) -> Self {
        Self {
            email_pin: t.email_pin,
            passkey_sign_in: t.passkey_sign_in,
            sms_mfa: t.sms_mfa,
        }
    }
}

/// The options a `PUT` changes; those left out stay as they are.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Changes {
    email_pin: Option<bool>,
    passkey_sign_in: Option<bool>,
    sms_mfa: Option<bool>,
}

pub async fn put(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    let body: Changes = parse_json(req)?;
    let changes: Vec<(&str, bool)> = [
        ("email_pin", body.email_pin),
        ("passkey_sign_in", body.passkey_sign_in),
        ("sms_mfa", body.sms_mfa),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.map(|v| (name, v)))
    .collect();
    if changes.is_empty() {
        return Err(ApiError::bad_request(
            "invalid_request",
            "Name at least one option: email_pin, passkey_sign_in or sms_mfa.",
        ));
    }
    let ip = client_ip(req);
    let events: Vec<_> = changes
        .iter()
        .map(|(name, on)| {
            let outcome = match (*name, *on) {
                ("email_pin", true) => "email_pin_on",
                ("email_pin", false) => "email_pin_off",
                ("passkey_sign_in", true) => "passkey_sign_in_on",
                ("passkey_sign_in", false) => "passkey_sign_in_off",
                (_, true) => "sms_mfa_on",
                (_, false) => "sms_mfa_off",
            };
            admin
                .event(Action::ConfigSignin, None, &ip)
                .outcome(outcome)
        })
        .collect();
    state
        .store
        .set_sign_in_options(&admin.tenant.id, &changes, &events, &mut rand::rngs::OsRng)
        .await?;
    let mut now = admin.tenant;
    for (name, on) in changes {
        match name {
            "email_pin" => now.email_pin = on,
            "passkey_sign_in" => now.passkey_sign_in = on,
            _ => now.sms_mfa = on,
        }
    }
    Ok(json(StatusCode::OK, &SignInOptions::of(&now)))
}
