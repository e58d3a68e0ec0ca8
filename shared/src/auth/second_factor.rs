//! Proving a second factor (at sign-in, or again before changing one) and changing factors.
//! A proof is limited like any guess ([`MfaGuesses`]); a change of factors by someone who
//! already has one needs a proof of the last [`REAUTH_SECS`], ends every other session of the
//! user, gives this one a new id and tells the user by email.

use super::guard::{MfaGuesses, Verdict};
use super::seeds::open_seed;
use super::session::{session_gone, unauthenticated, Caller};
use super::sign_in::{after_second_factor, NewSession, Proved};
#[cfg(feature = "webauthn")]
use crate::credentials::webauthn::{after_use, Ceremony};
use crate::credentials::{recovery, totp};
use crate::domain::factors::ALERT_EVERY_SECS;
use crate::domain::session::REAUTH_SECS;
use crate::domain::{Action, AuditEvent, Level, SessionId, SessionRecord, Timestamp, UserRecord};
use crate::http::cookies::Cookie;
use crate::http::ApiError;
use crate::mail::templates;
use crate::store::users::CredentialChange;
use crate::store::{StoreError, Writes};
use crate::AppState;
use http::{HeaderValue, StatusCode};
use serde::Deserialize;
#[cfg(feature = "webauthn")]
use webauthn_rs::prelude::PublicKeyCredential;

/// A second factor presented: `{"method":"totp","code"}`, `{"method":"recovery","code"}` or
/// `{"method":"webauthn","credential"}` (after the options of `/api/login/webauthn/options`;
/// only where the `webauthn` feature is on: the functions that take a second factor).
#[derive(Deserialize)]
#[serde(tag = "method", rename_all = "lowercase")]
pub enum Proof {
    Totp {
        code: String,
    },
    Recovery {
        code: String,
    },
    #[cfg(feature = "webauthn")]
    Webauthn {
        credential: PublicKeyCredential,
    },
    /// Without a code: text one to the user's number (`text_code`); with it: check it.
    #[cfg(feature = "sms")]
    Sms {
        #[serde(default)]
        code: Option<String>,
    },
}

impl Proof {
    pub fn method(&self) -> &'static str {
        match self {
            Self::Totp { .. } => "totp",
            Self::Recovery { .. } => "recovery",
            #[cfg(feature = "webauthn")]
            Self::Webauthn { .. } => "webauthn",
            #[cfg(feature = "sms")]
            Self::Sms { .. } => "sms",
        }
    }

    /// A request to text a code (`{method: "sms"}` without one), not a proof.
    pub fn asks_for_text(&self) -> bool {
        #[cfg(feature = "sms")]
        if matches!(self, Self::Sms { code: None }) {
            return true;
        }
        false
    }

    /// A security key's answer to a challenge, which spends the challenge, right or wrong.
    fn is_security_key(&self) -> bool {
        #[cfg(feature = "webauthn")]
        if matches!(self, Self::Webauthn { .. }) {
            return true;
        }
        false
    }
}

/// Proves a second factor at sign-in: a right one, its use (the TOTP step, the recovery code,
/// the key's challenge), the end of the password-level session, a new full one and the
/// sign-in event are one transaction with the reset of the user's guess counter; a wrong one
/// takes a guess with its audit event. The new session, or `None` when wrong.
pub async fn sign_in(
    state: &AppState,
    caller: &Caller,
    proof: &Proof,
    ip: &str,
    now: Timestamp,
) -> Result<Option<NewSession>, ApiError> {
    let method = proof.method();
    let new = after_second_factor(caller, Proved::SecondFactor { method }, Vec::new(), now)?;
    let user = &caller.user;
    let failure = AuditEvent::by(user, Action::LoginMfa, Some(user), ip).outcome("failure");
    let writes = |spend: CredentialChange, ceremony: Option<&str>| {
        let old = &caller.session.hash;
        let mut rng = rand::rngs::OsRng;
        let session = state.store.sign_in_writes(
            old,
            ceremony,
            &new.record,
            user,
            spend,
            &new.events,
            &mut rng,
        )?;
        Ok(session.and(new.device_writes(&state.store)?))
    };
    if !prove_then(state, caller, proof, now, writes, failure).await? {
        return Ok(None);
    }
    Ok(Some(new))
}

/// Proves a second factor again (before a change of factors): a right one is spent and
/// recorded on the session as its latest proof, with the event `action`, in one transaction;
/// a wrong one takes a guess, recorded as a failure of `action`.
pub async fn reprove(
    state: &AppState,
    caller: &Caller,
    proof: &Proof,
    action: Action,
    ip: &str,
    now: Timestamp,
) -> Result<bool, ApiError> {
    let user = &caller.user;
    let success = [AuditEvent::by(user, action, Some(user), ip).outcome(proof.method())];
    let failure = AuditEvent::by(user, action, Some(user), ip).outcome("failure");
    let writes = |spend: CredentialChange, ceremony: Option<&str>| {
        let session = &caller.session.hash;
        let mut rng = rand::rngs::OsRng;
        state
            .store
            .proof_writes(session, ceremony, now, user, spend, &success, &mut rng)
    };
    prove_then(state, caller, proof, now, writes, failure).await
}

/// Judges `proof` without writing anything, then settles it under the user's guess limit
/// ([`MfaGuesses::settle`]): a right one with `writes` (its use is conditioned there, so a code
/// counts once even when two requests bring it together), a wrong one with `failure`. The
/// verdict is answered only once it is settled; 429 while the guesses are used up.
async fn prove_then(
    state: &AppState,
    caller: &Caller,
    proof: &Proof,
    now: Timestamp,
    writes: impl Fn(CredentialChange, Option<&str>) -> Result<Writes, StoreError>,
    failure: AuditEvent,
) -> Result<bool, ApiError> {
    // The counter as read with the caller, when the route asked for it.
    let mut seen = caller.more.counters.first().copied();
    if let Some((spend, ceremony)) = judge(state, caller, proof, now).await? {
        let right = || writes(spend.clone(), ceremony.as_deref());
        match MfaGuesses::settle(state, &caller.user, seen, true, right, now).await? {
            Verdict::Settled => return Ok(true),
            // The code was spent meanwhile (a replay racing the original) or the challenge
            // answered already: a wrong guess after all, counted as one.
            Verdict::Refused { index: 0 } => {}
            Verdict::Refused { .. } if ceremony.is_some() => {}
            Verdict::Refused { .. } => return Err(unauthenticated()),
        }
        seen = None;
    }
    let answered_challenge = proof.is_security_key() && caller.session.ceremony.is_some();
    let spent = answered_challenge.then_some(&caller.session.hash);
    let events = [failure];
    let wrong = || {
        let failed = state
            .store
            .failure_writes(spent, &events, &mut rand::rngs::OsRng)?;
        Ok(failed.and(state.store.second_factor_failure_writes(&caller.user)?))
    };
    match MfaGuesses::settle(state, &caller.user, seen, false, wrong, now).await? {
        Verdict::Settled => {
            after_failure(state, caller, now).await;
            Ok(false)
        }
        // Only the session (or the user) can fail its condition here: it ended meanwhile.
        Verdict::Refused { .. } => Err(unauthenticated()),
    }
}

/// What a counted wrong guess leads to besides (NIST SP 800-63B §5.2.2): after the fifth in a
/// row at sign-in, an email to the owner (at most one an hour, whoever wins the claim); at the
/// hundredth, an email saying the factor is now refused in unknown browsers, and its audit
/// event. Mail that cannot go out is logged: the guess was counted either way.
async fn after_failure(state: &AppState, caller: &Caller, now: Timestamp) {
    let user = &caller.user;
    let at_sign_in = caller.session.level == Level::Password;
    let next = caller.credentials.factors.after_failure(at_sign_in, now.0);
    let product = &state.config.product_name;
    let mut mails = Vec::new();
    if next.alert {
        match state.store.claim_alert(user, now.0, ALERT_EVERY_SECS).await {
            Ok(true) => mails.push(templates::second_factor_failures(
                product,
                &caller.session.ip,
                now,
            )),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not claim the failures alert"),
        }
    }
    if next.blocks {
        mails.push(templates::second_factor_blocked(product, now));
        let event = AuditEvent::by(user, Action::MfaBlocked, Some(user), &caller.session.ip);
        state.store.audit(&event).await;
    }
    for mail in mails {
        if let Err(e) = state.mailer().send(user.email.as_str(), &mail).await {
            tracing::warn!(error = %e, "could not send the second-factor alert");
        }
    }
}

/// 403 `mfa_blocked` when a hundred wrong second-factor guesses in a row blocked the factor
/// and this browser holds no device cookie of the user's; until a password reset.
pub fn refuse_if_blocked(caller: &Caller) -> Result<(), ApiError> {
    if caller.credentials.factors.blocked() && caller.device.is_none() {
        return Err(mfa_blocked());
    }
    Ok(())
}

/// 403 `mfa_blocked`: see [`refuse_if_blocked`].
pub fn mfa_blocked() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "mfa_blocked",
        "Too many wrong codes were entered for this account. Reset your password (\u{201c}Forgot password\u{201d}) to sign in from this browser.",
    )
}

/// What a right `proof` spends (and the challenge it answered), or `None` for a wrong one: a
/// current TOTP code of a step not used before, an unspent recovery code, a valid answer to
/// the security-key challenge the session holds. Writes nothing.
async fn judge(
    state: &AppState,
    caller: &Caller,
    proof: &Proof,
    now: Timestamp,
) -> Result<Option<(CredentialChange, Option<String>)>, ApiError> {
    let factors = &caller.credentials.factors;
    match proof {
        Proof::Totp { code } => {
            let Some(factor) = &factors.totp else {
                return Ok(None);
            };
            let seed = open_seed(state, &factor.seed, &caller.user).await?;
            let Some(step) = totp::matching_step(&seed, code, now) else {
                return Ok(None);
            };
            let step = i64::try_from(step).unwrap_or(i64::MAX);
            if step <= factor.last_step {
                return Ok(None); // replayed
            }
            Ok(Some((CredentialChange::spend_totp_step(step), None)))
        }
        Proof::Recovery { code } => Ok(recovery::hash(code)
            .filter(|h| factors.recovery_hashes.contains(h))
            .map(|h| (CredentialChange::spend_recovery_code(&h), None))),
        #[cfg(feature = "webauthn")]
        Proof::Webauthn { credential } => {
            let Some(raw) = caller.session.ceremony.as_deref() else {
                return Ok(None);
            };
            let Some(Ceremony::Login(ceremony)) = Ceremony::from_json(raw) else {
                return Ok(None);
            };
            let Ok(result) = state
                .webauthn()?
                .finish_passkey_authentication(credential, &ceremony)
            else {
                return Ok(None);
            };
            // Its counter (clone detection) and when it was last used, for the account page.
            let keys = after_use(&factors.security_keys, &result, now.0);
            let spend = CredentialChange::security_keys(&keys, factors.security_keys_version, None);
            Ok(Some((spend, Some(raw.to_owned()))))
        }
        #[cfg(feature = "sms")]
        Proof::Sms { code } => {
            let code = code.as_deref().unwrap_or_default();
            let sent = factors.sms_code.as_ref();
            if sms_number(caller).is_err() || !crate::sms::matches(code, sent, now).await {
                return Ok(None);
            }
            Ok(sent.map(|s| (CredentialChange::spend_sms_code(&s.hash), None)))
        }
    }
}

/// The caller's number, when codes may be texted to it: they set one up, and their
/// organisation allows text messages — or it is their only factor left, which nobody may
/// take from them (409 `sms_not_enrolled`, 403 `sms_not_allowed`).
#[cfg(feature = "sms")]
fn sms_number(caller: &Caller) -> Result<&str, ApiError> {
    let factors = &caller.credentials.factors;
    let Some(number) = factors.phone.as_deref() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "sms_not_enrolled",
            "No phone number is set up for this account. Use another second factor.",
        ));
    };
    let allowed = caller.tenant.as_ref().is_some_and(|t| t.sms_mfa);
    if !allowed && factors.count() > 1 {
        return Err(sms_not_allowed());
    }
    Ok(number)
}

/// 403 `sms_not_allowed`: the organisation has not opted in to codes by text message.
#[cfg(feature = "sms")]
pub fn sms_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "sms_not_allowed",
        "Your organisation does not allow codes by text message. Use another second factor.",
    )
}

/// Texts a fresh code to the caller's number (`{method: "sms"}` at sign-in or before a change
/// of factors): 202 `{status: "sent", phone, expires_in}` with the number masked; a new code
/// replaces the last. At most three messages per number in fifteen minutes (429).
#[cfg(feature = "sms")]
pub async fn text_code(
    state: &AppState,
    caller: &Caller,
    now: Timestamp,
) -> crate::http::HandlerResult {
    let number = sms_number(caller)?;
    let keep = CredentialChange::sms_code;
    text_fresh_code(state, &caller.user, number, keep, factors_changed, now).await
}

/// Texts a fresh code to `number`: counted against the number's limit (429), its hash kept
/// on `user` by the change `keep` makes of it (`lost()` answered when that change finds the
/// account changed meanwhile), then sent; 202 with the number masked.
#[cfg(feature = "sms")]
pub async fn text_fresh_code(
    state: &AppState,
    user: &UserRecord,
    number: &str,
    keep: impl FnOnce(&crate::domain::factors::SentCode) -> CredentialChange,
    lost: fn() -> ApiError,
    now: Timestamp,
) -> crate::http::HandlerResult {
    super::guard::sms_limited(state, number, now).await?;
    let product = &state.config.product_name;
    let rp_id = &state.config.webauthn_rp_id;
    let (code, message) = crate::sms::prepare(product, rp_id, now).await?;
    if !state.store.change_factors(user, &keep(&code)).await? {
        return Err(lost());
    }
    crate::sms::send(state.texter(), number, &message).await?;
    Ok(crate::http::json(StatusCode::ACCEPTED, &Texted::to(number)))
}

/// The answer of a texted code.
#[cfg(feature = "sms")]
#[derive(serde::Serialize)]
pub struct Texted {
    pub status: &'static str,
    pub phone: String,
    pub expires_in: i64,
    pub message: String,
}

#[cfg(feature = "sms")]
impl Texted {
    pub fn to(number: &str) -> Self {
        let phone = crate::domain::factors::masked_phone(number);
        Self {
            status: "sent",
            message: format!("We texted a code to {phone}. It works once, for 5 minutes."),
            phone,
            expires_in: crate::domain::factors::SMS_CODE_SECS,
        }
    }
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

/// The caller's session under a new id, at the next epoch of their user: what a change that
/// ends every other session leaves this browser with.
pub struct Rotation {
    id: SessionId,
    pub record: SessionRecord,
    now: Timestamp,
}

impl Rotation {
    pub fn of(caller: &Caller, now: Timestamp) -> Self {
        let epoch = caller.user.session_epoch + 1;
        let (id, record) = caller.session.rotated(epoch, now, &mut rand::rngs::OsRng);
        Self { id, record, now }
    }

    /// `change` to the caller's credentials (possibly none), the end of every other session
    /// and this one under its new id, with `events`: for [`Store::settle`] (element 0 the
    /// change, 1 the old session).
    ///
    /// [`Store::settle`]: crate::store::Store::settle
    pub fn writes(
        &self,
        state: &AppState,
        caller: &Caller,
        change: &CredentialChange,
        events: &[AuditEvent],
    ) -> Result<Writes, StoreError> {
        let writes = state.store.ending_other_sessions_writes(
            &caller.user,
            change,
            &caller.session.hash,
            &self.record,
            events,
            &mut rand::rngs::OsRng,
        )?;
        // Every other device is forgotten with the epoch; this browser's is carried over.
        Ok(match &caller.device {
            Some(d) => writes.and(state.store.device_keep_writes(d, self.record.epoch)?),
            None => writes,
        })
    }

    /// What settling [`Rotation::writes`] came to: done; 409 `factors_changed` when the account
    /// changed meanwhile (element 0); 401 when this session ended meanwhile.
    pub fn settled(verdict: Verdict) -> Result<(), ApiError> {
        match verdict {
            Verdict::Settled => Ok(()),
            Verdict::Refused { index: 0 } => Err(factors_changed()),
            Verdict::Refused { .. } => Err(unauthenticated()),
        }
    }

    /// The cookie of the new id, living as long as the session may.
    pub fn cookie(&self, state: &AppState) -> HeaderValue {
        let left = (self.record.expires_at.0 - self.now.0).max(0);
        Cookie::Session.set(&state.config, self.id.secret(), left)
    }
}

/// 409 `factors_changed`: another change of the account won.
pub fn factors_changed() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "factors_changed",
        "Your sign-in methods changed meanwhile. Reload the page and try again.",
    )
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
    let rotation = Rotation::of(caller, Timestamp::now());
    let writes = rotation.writes(state, caller, change, events)?;
    match state.store.commit(writes).await {
        Ok(()) => {}
        Err(e) if e.failed_condition(0) => return Err(factors_changed()),
        Err(e) => return Err(session_gone(e)),
    }
    Ok(rotation.cookie(state))
}

/// Emails the user that their sign-in methods changed. The change is made: a mail that cannot
/// go out is logged, not answered.
pub async fn notify_change(state: &AppState, user: &UserRecord, what: &str, now: Timestamp) {
    let mail = templates::sign_in_methods_changed(&state.config.product_name, what, now);
    if let Err(e) = state.mailer().send(user.email.as_str(), &mail).await {
        tracing::warn!(error = %e, "could not send the sign-in methods notice");
    }
}
