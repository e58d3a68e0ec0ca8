//! `GET`/`PUT /api/config/signin {email_pin}`: whether the organisation's people may sign in
//! with a PIN emailed to them instead of their password (the second factor is still asked
//! for). Off by default; each change is audited.

use lambda_http::http::StatusCode;
use porter_shared::auth::access;
use porter_shared::domain::Action;
use porter_shared::http::{client_ip, json, parse_json, HandlerResult, Request};
use porter_shared::AppState;
use serde::{Deserialize, Serialize};

pub async fn get(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    Ok(json(
        StatusCode::OK,
        &SignInOptions {
            email_pin: admin.tenant.email_pin,
        },
    ))
}

/// The organisation's sign-in options, as asked for and as answered.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct SignInOptions {
    email_pin: bool,
}

pub async fn put(state: &AppState, req: &Request) -> HandlerResult {
    let admin = access::admin(state, req, true).await?;
    let body: SignInOptions = parse_json(req)?;
    let event = admin
        .event(Action::ConfigSignin, None, &client_ip(req))
        .outcome(if body.email_pin {
            "email_pin_on"
        } else {
            "email_pin_off"
        });
    state
        .store
        .set_email_pin(
            &admin.tenant.id,
            body.email_pin,
            &event,
            &mut rand::rngs::OsRng,
        )
        .await?;
    Ok(json(
        StatusCode::OK,
        &SignInOptions {
            email_pin: body.email_pin,
        },
    ))
}
