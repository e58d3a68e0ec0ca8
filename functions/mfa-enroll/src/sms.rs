//! A phone number as a second factor (codes by text message), where the organisation allows
//! it (Configuration → Sign-in; a restricted authenticator in NIST SP 800-63B, so every other
//! factor stays on offer beside it).
//!
//! - `POST /api/mfa/sms {phone}` → 202 `{status: "sent", phone, expires_in}`: a code texted
//!   to the number (E.164; 422 `invalid_phone`), at most three per number in fifteen minutes.
//! - `POST /api/mfa/sms/confirm {code}` → `{recovery_codes, next}`: the number becomes the
//!   factor. A wrong code counts as a second-factor guess (422 `invalid_code`).

use crate::enrol::{enrolled, enroller};
use lambda_http::http::StatusCode;
use porter_shared::auth::guard::MfaGuesses;
use porter_shared::auth::second_factor::{sms_not_allowed, text_fresh_code};
use porter_shared::auth::session::authenticate;
use porter_shared::credentials::recovery;
use porter_shared::domain::factors::{PendingPhone, SentCode};
use porter_shared::domain::{Level, Timestamp};
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::sms;
use porter_shared::store::users::CredentialChange;
use porter_shared::store::Writes;
use porter_shared::AppState;
use serde::Deserialize;

#[derive(Deserialize)]
struct StartRequest {
    phone: String,
}

pub async fn start(state: &AppState, req: &Request) -> HandlerResult {
    let caller = enroller(state, req).await?;
    let body: StartRequest = parse_json(req)?;
    if !caller.tenant.as_ref().is_some_and(|t| t.sms_mfa) {
        return Err(sms_not_allowed());
    }
    let number = sms::parse_number(&body.phone).ok_or_else(sms::invalid_number)?;
    let keep = |code: &SentCode| CredentialChange::phone_pending(&number, code);
    // Only the user item's existence is the pending number's condition: the user is gone.
    let lost = porter_shared::auth::session::unauthenticated;
    let now = Timestamp::now();
    text_fresh_code(state, &caller.user, &number, keep, lost, now).await
}

#[derive(Deserialize)]
struct ConfirmRequest {
    code: String,
}

pub async fn confirm(state: &AppState, req: &Request) -> HandlerResult {
    let caller = enroller(state, req).await?;
    let body: ConfirmRequest = parse_json(req)?;
    let now = Timestamp::now();
    let Some(pending) = caller.credentials.factors.phone_pending.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "sms_not_started",
            "Enter your phone number first: no code is waiting.",
        ));
    };
    let seen = caller.more.counters.first().copied().flatten();
    MfaGuesses::allowed(seen, now)?;
    if !sms::matches(&body.code, Some(&pending.code), now).await {
        let none = || Ok(Writes::none());
        MfaGuesses::settle(state, &caller.user, Some(seen), false, none, now).await?;
        return Err(expired_or_wrong(&pending, now));
    }
    let (codes, hashes) = recovery::fresh(&mut rand::rngs::OsRng);
    let change = CredentialChange::confirm_phone(&pending, &hashes);
    let ip = client_ip(req);
    let also = Writes::none();
    enrolled(state, &caller, &change, also, "sms", codes, &ip, Some(seen)).await
}

fn expired_or_wrong(pending: &PendingPhone, now: Timestamp) -> ApiError {
    let message = if pending.code.is_live(now.0) {
        "That code does not match. Enter the 6 digits from the latest text message."
    } else {
        "That code has expired. Ask for a new one."
    };
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_code", message)
}

/// What the sign-in pages offer a person past their first factor: the factors they have,
/// and whether their organisation lets them add a phone number.
#[derive(serde::Serialize)]
struct Methods {
    totp: bool,
    security_key: bool,
    sms: bool,
    sms_allowed: bool,
}

/// `GET /api/mfa/methods`: for the second step and the first enrolment (any session of the
/// person; nothing about anyone else).
pub async fn methods(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Password).await?;
    let factors = &caller.credentials.factors;
    Ok(json(
        StatusCode::OK,
        &Methods {
            totp: factors.totp.is_some(),
            security_key: !factors.security_keys.is_empty(),
            sms: factors.phone.is_some(),
            sms_allowed: caller.tenant.as_ref().is_some_and(|t| t.sms_mfa),
        },
    ))
}
