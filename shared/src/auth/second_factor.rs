//! Proving a second factor (at sign-in, or again before changing one) and changing factors.
//! A proof is limited like any guess ([`MfaGuesses`]); a change of factors by someone who
//! already has one needs a proof of the last [`REAUTH_SECS`], ends every other session of the
//! user, gives this one a new id and tells the user by email.

use super::ceremony;
use super::guard::{open_seed, MfaGuesses};
use super::session::{session_gone, set_cookie, Caller};
use crate::credentials::webauthn::{after_use, Ceremony};
use crate::credentials::{recovery, totp};
use crate::domain::session::REAUTH_SECS;
use crate::domain::{AuditEvent, SessionRecord, Timestamp, UserRecord};
use crate::http::ApiError;
use crate::mail::templates;
use crate::store::users::CredentialChange;
use crate::AppState;
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
use webauthn_rs::prelude::PublicKeyCredential;

/// A second factor presented: `{"method":"totp","code"}`, `{"method":"recovery","code"}` or
/// `{"method":"webauthn","credential"}` (after the options of `/api/login/webauthn/options`).
#[derive(Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Proof {
    Totp { code: String },
    Recovery { code: String },
    Webauthn { credential: PublicKeyCredential },
}

impl Proof {
    pub fn method(&self) -> &'static str {
        match self {
            Self::Totp { .. } => "totp",
            Self::Recovery { .. } => "recovery",
            Self::Webauthn { .. } => "webauthn",
        }
    }
}

/// Judges `proof` for the caller, after taking a guess (429 when they are used up): a current
/// TOTP code not used before, an unspent recovery code (spent now), or the security-key
/// ceremony the session holds. A right proof starts the guess count afresh.
pub async fn prove(
    state: &AppState,
    caller: &Caller,
    proof: &Proof,
    now: Timestamp,
) -> Result<bool, ApiError> {
    let guesses = MfaGuesses::check(state, &caller.user, now).await?;
    let ok = match proof {
        Proof::Totp { code } => check_totp(state, caller, code, now).await?,
        Proof::Recovery { code } => match recovery::hash(code) {
            Some(h) => state.store.spend_recovery_code(&caller.user, &h).await?,
            None => false,
        },
        Proof::Webauthn { credential } => check_key(state, caller, credential).await?,
    };
    if ok {
        guesses.succeeded(state).await;
    }
    Ok(ok)
}

/// A current code, not used before: the step it belongs to is spent atomically.
async fn check_totp(
    state: &AppState,
    caller: &Caller,
    code: &str,
    now: Timestamp,
) -> Result<bool, ApiError> {
    let Some(factor) = &caller.credentials.factors.totp else {
        return Ok(false);
    };
    let seed = open_seed(state, &factor.seed, &caller.user).await?;
    let Some(step) = totp::matching_step(&seed, code, now) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if step <= factor.last_step {
        return Ok(false); // replayed
    }
    Ok(state.store.spend_totp_step(&caller.user, step).await?)
}

async fn check_key(
    state: &AppState,
    caller: &Caller,
    credential: &PublicKeyCredential,
) -> Result<bool, ApiError> {
    let Some(Ceremony::Login(ceremony)) = ceremony::take(state, caller).await? else {
        return Ok(false);
    };
    let Ok(result) = state
        .webauthn
        .finish_passkey_authentication(credential, &ceremony)
    else {
        return Ok(false);
    };
    // Its counter (clone detection) and when it was last used, for the account page. The
    // key was proved: a failure to record this is logged, not answered.
    let keys = after_use(
        &caller.credentials.factors.security_keys,
        &result,
        Timestamp::now().0,
    );
    let used = CredentialChange::security_keys(&keys, None);
    if let Err(e) = state.store.change_factors(&caller.user, &used).await {
        tracing::warn!(error = %e, "could not record the security key's use");
    }
    Ok(true)
}

/// Whether the caller may change their factors now: always while they have none (the first
/// enrolment), else only with a proof of the last five minutes (403 `reauth_required`).
pub fn require_recent_proof(caller: &Caller, now: Timestamp) -> Result<(), ApiError> {
    if !caller.user.has_mfa() || caller.session.recently_proved(now) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "reauth_required",
        format!(
            "Confirm it is you with your current second factor first (it then counts for {} minutes).",
            REAUTH_SECS / 60
        ),
    ))
}

/// A change of factors by a user who already has one: the change, the end of the user's other
/// sessions and this session's new id, with `events`, in one transaction; then an email to the
/// user saying `what` changed. Returns the new session cookie; 409 `factors_changed` when the
/// factors changed meanwhile (another change won), 401 when this session ended meanwhile.
pub async fn change_factors(
    state: &AppState,
    caller: &Caller,
    change: &CredentialChange,
    events: &[AuditEvent],
    what: &str,
) -> Result<HeaderValue, ApiError> {
    let now = Timestamp::now();
    require_recent_proof(caller, now)?;
    let cookie = end_other_sessions(state, caller, change, events).await?;
    notify_change(state, &caller.user, what, now).await;
    Ok(cookie)
}

/// `change` to the caller's credentials (possibly none), the end of every other session of
/// theirs and this one under a new id, with `events`, in one transaction. Returns the new
/// session cookie; 409 `factors_changed` when the account changed meanwhile, 401 when this
/// session ended meanwhile.
pub async fn end_other_sessions(
    state: &AppState,
    caller: &Caller,
    change: &CredentialChange,
    events: &[AuditEvent],
) -> Result<HeaderValue, ApiError> {
    let now = Timestamp::now();
    let mut rng = rand::rngs::OsRng;
    let (id, session) = caller
        .session
        .rotated(caller.user.session_epoch + 1, now, &mut rng);
    let done = state
        .store
        .change_factors_ending_other_sessions(
            &caller.user,
            change,
            &caller.session.hash,
            &session,
            events,
            &mut rng,
        )
        .await
        .map_err(session_gone)?;
    if !done {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "factors_changed",
            "Your sign-in methods changed meanwhile. Reload the page and try again.",
        ));
    }
    Ok(cookie_for(state, &session, id.secret(), now))
}

/// The session cookie for `session`, living as long as the session may.
fn cookie_for(state: &AppState, session: &SessionRecord, id: &str, now: Timestamp) -> HeaderValue {
    set_cookie(&state.config, id, (session.expires_at.0 - now.0).max(0))
}

/// Emails the user that their sign-in methods changed. The change is made: a mail that cannot
/// go out is logged, not answered.
pub async fn notify_change(state: &AppState, user: &UserRecord, what: &str, now: Timestamp) {
    let mail = templates::sign_in_methods_changed(&state.config.product_name, what, now);
    if let Err(e) = state.mailer.send(user.email.as_str(), &mail).await {
        tracing::warn!(error = %e, "could not send the sign-in methods notice");
    }
}
