//! TOTP enrolment: a 160-bit seed, shown once as QR code and text, confirmed by a code.

use crate::enrol::{enrolled, enroller};
use lambda_http::http::StatusCode;
use porter_shared::auth::guard::MfaGuesses;
use porter_shared::auth::seeds::{open_seed, seal_seed};
use porter_shared::credentials::recovery;
use porter_shared::credentials::totp;
use porter_shared::domain::Timestamp;
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::store::users::CredentialChange;
use porter_shared::store::Writes;
use porter_shared::AppState;
use serde::Deserialize;
use serde::Serialize;

pub async fn start(state: &AppState, req: &Request) -> HandlerResult {
    let caller = enroller(state, req).await?;
    let seed = totp::generate_secret(&mut rand::rngs::OsRng);
    let sealed = seal_seed(state, &seed, &caller.user).await?;
    state.store.set_pending_totp(&caller.user, &sealed).await?;
    let issuer = &state.config.product_name;
    let uri = totp::otpauth_uri(&seed, issuer, caller.user.email.as_str())
        .ok_or_else(|| ApiError::internal("totp uri", &"could not build the otpauth URI"))?;
    let qr = totp::qr_svg(&uri)
        .ok_or_else(|| ApiError::internal("totp qr", &"could not draw the QR code"))?;
    Ok(json(
        StatusCode::OK,
        &Started {
            secret: totp::base32(&seed),
            otpauth_uri: uri,
            qr_svg: qr,
            issuer,
            account: caller.user.email.as_str(),
        },
    ))
}

#[derive(Deserialize)]
struct ConfirmRequest {
    code: String,
}

pub async fn confirm(state: &AppState, req: &Request) -> HandlerResult {
    let caller = enroller(state, req).await?;
    let body: ConfirmRequest = parse_json(req)?;
    let now = Timestamp::now();
    let Some(sealed) = caller.credentials.factors.totp_pending.clone() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "totp_not_started",
            "Start the authenticator set-up again: no pending code is waiting.",
        ));
    };
    // The counter as read with the caller: a guesser who is waiting costs no decryption.
    let seen = caller.more.counters.first().copied().flatten();
    MfaGuesses::allowed(seen, now)?;
    let seed = open_seed(state, &sealed, &caller.user).await?;
    let Some(step) = totp::matching_step(&seed, &body.code, now) else {
        let none = || Ok(Writes::none());
        MfaGuesses::settle(state, &caller.user, Some(seen), false, none, now).await?;
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_code",
            "That code does not match. Check the time on your phone and enter the current code.",
        ));
    };
    let (codes, hashes) = recovery::fresh(&mut rand::rngs::OsRng);
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let change = CredentialChange::enable_totp(&sealed, step, &hashes);
    let ip = client_ip(req);
    let also = Writes::none();
    enrolled(
        state,
        &caller,
        &change,
        also,
        "totp",
        codes,
        &ip,
        Some(seen),
    )
    .await
}

/// A new authenticator's seed, shown once as text and as a QR code.
#[derive(Serialize)]
struct Started<'a> {
    secret: String,
    otpauth_uri: String,
    qr_svg: String,
    issuer: &'a str,
    account: &'a str,
}
