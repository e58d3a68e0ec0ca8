//! What every enrolment shares: who may enrol, and the end of an enrolment (the factor stored with the session it earns, in one transaction).

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::{MfaGuesses, Verdict};
use porter_shared::auth::second_factor::{notify_change, require_recent_proof, Rotation};
use porter_shared::auth::session::{authenticate_with, unauthenticated, Caller};
use porter_shared::auth::sign_in::{after_second_factor, Next, NextStep, Proved};
use porter_shared::domain::throttle::Counter;
use porter_shared::domain::{Action, AuditEvent, Level, SessionOwner, Timestamp};
use porter_shared::http::{json_with_cookie, ApiError, Body, Request, Response};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::users::CredentialChange;
use porter_shared::store::Writes;
use porter_shared::AppState;
use serde::Serialize;

/// The caller, if they may enrol: first factor only and no second factor yet, or fully
/// signed in with a recent proof. A password-level session of a user who has a factor must
/// finish signing in first.
pub(crate) async fn enroller(state: &AppState, req: &Request) -> Result<Caller, ApiError> {
    // The second-factor guess counter comes with the caller, for a code that proves the new
    // factor.
    let with_counter = |s: &SessionOwner| Fetch::default().counters([MfaGuesses::key(&s.user)]);
    let caller = authenticate_with(state, req, Level::Password, with_counter).await?;
    if caller.session.level == Level::Password && caller.user.has_mfa() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "mfa_required",
            "Sign in with your existing second factor before adding another.",
        ));
    }
    require_recent_proof(&caller, Timestamp::now())?;
    Ok(caller)
}

/// The answer of an enrolment: the recovery codes, shown once, and where to go next.
#[derive(Serialize)]
struct Enrolled {
    recovery_codes: Vec<String>,
    #[serde(flatten)]
    step: NextStep,
}

/// The end of every enrolment: `change` stored and the event recorded in one transaction with
/// what follows, and the codes shown once. A first enrolment completes the sign-in (the session
/// becomes full, under a new id); a change by someone who already had a factor ends their
/// other sessions and is emailed. `guess`: the second-factor counter as read with the caller,
/// when a code proved the new factor (the right guess resets it in the same transaction).
/// `also`: what else the new factor needs written with it (a passkey's index).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn enrolled(
    state: &AppState,
    caller: &Caller,
    change: &CredentialChange,
    also: Writes,
    method: &'static str,
    codes: Vec<String>,
    ip: &str,
    guess: Option<Option<Counter>>,
) -> Result<Response<Body>, ApiError> {
    let user = &caller.user;
    let now = Timestamp::now();
    let events = vec![AuditEvent::by(user, Action::MfaEnroll, Some(user), ip).outcome(method)];
    let settle = |writes| MfaGuesses::settle_right(state, user, guess, writes, now);
    if user.has_mfa() {
        let what = match method {
            "totp" if user.has_totp => "Your authenticator app was replaced.",
            "totp" => "An authenticator app was added to your account.",
            "passkey" => "A passkey was added to your account.",
            "sms" if user.has_sms => "The phone number for codes by text message was changed.",
            "sms" => "A phone number for codes by text message was added to your account.",
            _ => "A security key was added to your account.",
        };
        let rotation = Rotation::of(caller, now);
        let writes = rotation.writes(state, caller, change, &events)?.and(also);
        Rotation::settled(settle(writes).await?)?;
        notify_change(state, user, what, now).await;
        let body = Enrolled {
            recovery_codes: codes,
            step: Next::App.into(),
        };
        return Ok(json_with_cookie(
            StatusCode::OK,
            &body,
            rotation.cookie(state),
        ));
    }
    // An enrolment at the password level is the second step of a sign-in.
    let proved = Proved::Enrolled {
        method,
        completes_sign_in: caller.session.level == Level::Password,
    };
    let new = after_second_factor(caller, proved, events, now)?;
    let writes = state
        .store
        .sign_in_writes(
            &caller.session.hash,
            None,
            &new.record,
            user,
            change.clone(),
            &new.events,
            &mut rand::rngs::OsRng,
        )?
        .and(new.device_writes(&state.store)?)
        .and(also);
    match settle(writes).await? {
        Verdict::Settled => Ok(new.json_with(
            &state.config,
            &Enrolled {
                recovery_codes: codes,
                step: new.next.into(),
            },
        )),
        Verdict::Refused { index: 0 } => Err(ApiError::new(
            StatusCode::CONFLICT,
            "totp_not_started",
            "This set-up was replaced by a newer one. Scan the newest QR code.",
        )),
        Verdict::Refused { .. } => Err(unauthenticated()),
    }
}
