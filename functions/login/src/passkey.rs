//! Sign-in with a passkey alone, from the first page, with nothing typed.
//!
//! - `POST /api/login/passkey/options` → request options with no `allowCredentials` (the
//!   browser offers the passkeys it holds for Porter) and `userVerification: required`. The
//!   state is kept under the challenge (`PKCHAL#`) for five minutes; sixty a minute per
//!   source address, then 429 `throttled`.
//! - `POST /api/login/passkey {credential}` → a full session in one step (`amr` `hwk` and
//!   `user`), `{next: "done" | "setup", path}`. The answer names its challenge in its signed
//!   client data: that finds the state, which is spent right or wrong.
//!
//! A credential nobody registered as a passkey, whose user is gone, has no role, signs in
//! through their organisation's identity provider (single sign-on decides for routed
//! domains) or whose user handle is not the user's, fails exactly like a wrong signature:
//! 401 `invalid_credentials`. Wrong signatures of a user's passkey count on their
//! second-factor guesses (429 once used up; 403 `mfa_blocked` after a hundred in a row, from
//! a browser without their device cookie); the key's counter is checked and kept as for
//! security keys. An organisation that turned passkey sign-in off answers 403
//! `passkey_sign_in_off` to its people.

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::{passkey_options_limited, MfaGuesses, Verdict};
use porter_shared::auth::second_factor::{factors_changed, mfa_blocked};
use porter_shared::auth::session::presented_device;
use porter_shared::auth::sign_in::{self, Proved, Seen};
use porter_shared::credentials::webauthn::{
    after_use, answer_key_id, answered_challenge, discoverable_key, discoverable_options,
    discoverable_state, user_handle,
};
use porter_shared::domain::{Action, AuditEvent, TenantId, Timestamp, UserId, UserStatus};
use porter_shared::http::{
    client_ip, json, parse_json, user_agent, ApiError, HandlerResult, Request,
};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::users::CredentialChange;
use porter_shared::{sso, AppState};
use rand::rngs::OsRng;
use serde::Deserialize;
use webauthn_rs::prelude::PublicKeyCredential;

pub async fn options(state: &AppState, req: &Request) -> HandlerResult {
    let now = Timestamp::now();
    passkey_options_limited(state, &client_ip(req), now).await?;
    let (options, challenge, kept) = discoverable_options(state.webauthn()?)
        .map_err(|e| ApiError::internal("passkey options", &e))?;
    state
        .store
        .put_passkey_challenge(&challenge, &kept, now)
        .await?;
    Ok(json(StatusCode::OK, &options))
}

fn refused() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "This passkey cannot sign you in here. Sign in with your email address instead.",
    )
}

fn not_started() -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "passkey_not_started",
        "This passkey request has expired or was used. Choose \u{201c}Sign in with a passkey\u{201d} again.",
    )
}

fn switched_off() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "passkey_sign_in_off",
        "Your organisation has turned off sign-in with a passkey. Sign in with your email address.",
    )
}

/// The challenge spent (a refused answer uses it up as a wrong one does), and `why` answered.
async fn spent(state: &AppState, challenge: &[u8], why: ApiError) -> HandlerResult {
    let spend = state.store.passkey_challenge_spend(challenge)?;
    state.store.commit(spend).await?;
    Err(why)
}

#[derive(Deserialize)]
struct PasskeyRequest {
    credential: PublicKeyCredential,
}

/// Three requests for a known passkey and a domain without single sign-on: the challenge with
/// the passkey's index; the user, tenant, guess counter and device; the domain's route. Then
/// one transaction settles the guess with all it leads to. An unknown passkey reads nobody's
/// user in the second and spends its challenge.
pub async fn sign_in(state: &AppState, req: &Request) -> HandlerResult {
    let body: PasskeyRequest = parse_json(req)?;
    let credential = &body.credential;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let Some(challenge) = answered_challenge(credential) else {
        return Err(not_started());
    };
    let cred_id = answer_key_id(credential);
    let first = Fetch::default()
        .passkey_challenge(&challenge)
        .passkey_owner(&cred_id);
    let first = state.store.fetch(&first).await?;
    let Some(pending) = first.passkey_challenge.filter(|c| now < c.expires_at) else {
        return Err(not_started());
    };
    let spend = || state.store.passkey_challenge_spend(&challenge);
    let (tid, uid) =
        (first.passkey_owner.clone()).unwrap_or_else(|| (TenantId::nobody(), UserId::nobody()));
    let device = presented_device(req, state);
    let second = Fetch::default()
        .user(&tid, &uid)
        .tenant(&tid)
        .counters([MfaGuesses::key(&uid)])
        .device(device);
    let mut found = state.store.fetch(&second).await?;
    let counter = found.counters.first().copied().flatten();
    let handle = state
        .webauthn()?
        .identify_discoverable_authentication(credential)
        .ok()
        .map(|(h, _)| h);
    let owned = first.passkey_owner.is_some();
    let holder = found
        .user
        .take()
        .filter(|(u, _)| {
            owned
                && u.status == UserStatus::Active
                && u.role.is_some()
                && handle == Some(user_handle(&u.id))
        })
        .and_then(|(user, creds)| {
            let key = discoverable_key(&creds.factors.security_keys, &cred_id)?;
            Some((user, creds.factors, key))
        });
    let Some((user, factors, key)) = holder else {
        return spent(state, &challenge, refused()).await;
    };
    // Single sign-on decides for a routed domain: a passkey must not bypass the provider.
    if sso::route_for(state, &user.email).await?.is_some() {
        return spent(state, &challenge, refused()).await;
    }
    let tenant = found.tenant.take();
    if tenant.as_ref().is_some_and(|t| !t.passkey_sign_in) {
        return spent(state, &challenge, switched_off()).await;
    }
    MfaGuesses::allowed(counter, now)?;
    let device = found.device.take().filter(|d| d.is_of(&user, now));
    if factors.blocked() && device.is_none() {
        return spent(state, &challenge, mfa_blocked()).await;
    }
    let ceremony = discoverable_state(&pending.state)
        .ok_or_else(|| ApiError::internal("passkey state", &"unreadable"))?;
    let checked =
        state
            .webauthn()?
            .finish_discoverable_authentication(credential, ceremony, &[key]);
    let Ok(result) = checked else {
        let events = [AuditEvent::by(&user, Action::LoginMfa, Some(&user), &ip).outcome("failure")];
        let wrong = || {
            Ok(spend()?
                .and(state.store.failure_writes(None, &events, &mut OsRng)?)
                .and(state.store.second_factor_failure_writes(&user)?))
        };
        MfaGuesses::settle(state, &user, Some(counter), false, wrong, now).await?;
        return Err(refused());
    };

    let seen = Seen {
        ip: &ip,
        user_agent: &user_agent(req),
        device: device.as_ref(),
        proved_before: &[],
    };
    // Refused after the proof (a suspended organisation): the challenge goes all the same.
    let new = match sign_in::begin(Proved::Passkey, &user, tenant.as_ref(), seen, vec![], now) {
        Ok(new) => new,
        Err(refused_here) => return spent(state, &challenge, refused_here).await,
    };
    let keys = after_use(&factors.security_keys, &result, now.0);
    let change = CredentialChange::security_keys(&keys, factors.security_keys_version, None);
    let writes = || {
        let events = &new.events;
        Ok(state
            .store
            .passkey_sign_in_writes(
                &challenge,
                &new.record,
                &user,
                change.clone(),
                events,
                &mut OsRng,
            )?
            .and(new.device_writes(&state.store)?))
    };
    match MfaGuesses::settle(state, &user, Some(counter), true, writes, now).await? {
        Verdict::Settled => Ok(new.json(&state.config)),
        // The keys changed meanwhile (one was removed): try again.
        Verdict::Refused { index: 0 } => Err(factors_changed()),
        // The challenge was answered meanwhile: this answer is a replay.
        Verdict::Refused { .. } => Err(refused()),
    }
}
