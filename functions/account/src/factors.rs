//! Second factors on the account page: a fresh proof (`reauth`), new recovery codes, renaming
//! or removing a security key, removing the authenticator app. Each needs a proof of the last
//! five minutes (403 `reauth_required`), none may leave the user without a second factor
//! (409 `last_factor`), and each but a rename ends the user's other sessions and is emailed.

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::MfaGuesses;
use porter_shared::auth::second_factor::{
    change_factors, reprove, require_recent_proof, text_code, Proof,
};
use porter_shared::auth::session::{authenticate, authenticate_with, Caller};
use porter_shared::credentials::recovery;
use porter_shared::domain::factors::key_name;
use porter_shared::domain::session::REAUTH_SECS;
use porter_shared::domain::{
    Action, AuditEvent, Level, SecondFactors, SecurityKeys, SessionOwner, Timestamp,
};
use porter_shared::http::Message;
use porter_shared::http::{
    client_ip, json, json_with_cookie, parse_json, ApiError, HandlerResult, Request,
};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::users::CredentialChange;
use porter_shared::AppState;
use serde::Deserialize;
use serde::Serialize;

pub async fn reauth(state: &AppState, req: &Request) -> HandlerResult {
    let with_counter = |s: &SessionOwner| Fetch::default().counters([MfaGuesses::key(&s.user)]);
    let caller = authenticate_with(state, req, Level::Full, with_counter).await?;
    let proof: Proof = parse_json(req)?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    if proof.asks_for_text() {
        return text_code(state, &caller, now).await;
    }
    if !reprove(state, &caller, &proof, Action::AccountReauth, &ip, now).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_code",
            "That code is not valid. Try the current one.",
        ));
    }
    Ok(json(
        StatusCode::OK,
        &Reproved {
            message: "Confirmed. You can change your sign-in methods now.",
            valid_for_secs: REAUTH_SECS,
        },
    ))
}

pub async fn new_recovery_codes(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    if !caller.user.has_mfa() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "mfa_not_enrolled",
            "Set up a second factor first: recovery codes come with it.",
        ));
    }
    let (codes, hashes) = recovery::fresh(&mut rand::rngs::OsRng);
    let user = &caller.user;
    let event = AuditEvent::by(user, Action::MfaRecoveryCodes, Some(user), &client_ip(req));
    let cookie = change_factors(
        state,
        &caller,
        &CredentialChange::recovery_codes(&hashes),
        &[event],
        "New recovery codes were made for your account; the old ones no longer work.",
    )
    .await?;
    Ok(json_with_cookie(
        StatusCode::OK,
        &RecoveryCodes {
            recovery_codes: codes,
        },
        cookie,
    ))
}

fn key_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "key_not_found",
        "There is no such security key on your account.",
    )
}

fn last_factor() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "last_factor",
        "This is your only second factor. Add another one before removing it.",
    )
}

/// The caller's keys, and where key `id` stands among them.
fn find_key(caller: &Caller, id: &str) -> Result<(SecurityKeys, usize), ApiError> {
    let keys = caller.credentials.factors.security_keys.clone();
    let at = keys
        .0
        .iter()
        .position(|k| !k.id.is_empty() && k.id == id)
        .ok_or_else(key_not_found)?;
    Ok((keys, at))
}

#[derive(Deserialize)]
struct RenameRequest {
    name: String,
}

pub async fn rename_key(state: &AppState, req: &Request, id: String) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    let body: RenameRequest = parse_json(req)?;
    require_recent_proof(&caller, Timestamp::now())?;
    let (mut keys, at) = find_key(&caller, &id)?;
    let name = key_name(&body.name).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
            "Give the key a name you will recognise, up to 60 characters.",
        )
    })?;
    if let Some(k) = keys.0.get_mut(at) {
        k.name.clone_from(&name);
    }
    let user = &caller.user;
    if !state
        .store
        .change_factors(
            user,
            &CredentialChange::security_keys(
                &keys,
                caller.credentials.factors.security_keys_version,
                None,
            ),
        )
        .await?
    {
        return Err(key_not_found());
    }
    let event = AuditEvent::by(user, Action::MfaKeyRename, Some(user), &client_ip(req));
    state.store.audit(&event).await;
    Ok(json(StatusCode::OK, &KeyNamed { id, name }))
}

pub async fn remove_key(state: &AppState, req: &Request, id: String) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    require_recent_proof(&caller, Timestamp::now())?;
    let (mut keys, at) = find_key(&caller, &id)?;
    if caller.credentials.factors.count() <= 1 {
        return Err(last_factor());
    }
    let removed = keys.0.remove(at);
    let user = &caller.user;
    let event = AuditEvent::by(user, Action::MfaKeyRemove, Some(user), &client_ip(req));
    let kind = if removed.discoverable {
        "passkey"
    } else {
        "security key"
    };
    let what = format!(
        "The {kind} \u{201c}{}\u{201d} was removed from your account.",
        removed.name
    );
    let cookie = change_factors(
        state,
        &caller,
        &CredentialChange::security_keys(
            &keys,
            caller.credentials.factors.security_keys_version,
            None,
        ),
        &[event],
        &what,
    )
    .await?;
    if removed.discoverable {
        if let Err(e) = state.store.forget_passkey_owner(&removed.id).await {
            // Harmless when left: the key is gone from the user, so it signs nobody in.
            tracing::warn!(error = %e, "could not forget a removed passkey's index");
        }
    }
    Ok(json_with_cookie(
        StatusCode::OK,
        &Message {
            message: if removed.discoverable {
                "Passkey removed."
            } else {
                "Security key removed."
            },
        },
        cookie,
    ))
}

pub async fn remove_totp(state: &AppState, req: &Request) -> HandlerResult {
    remove_one(
        state,
        req,
        Removal {
            has: |f| f.totp.is_some(),
            absent: (
                "totp_not_enrolled",
                "There is no authenticator app on your account.",
            ),
            change: CredentialChange::remove_totp(),
            action: Action::MfaTotpRemove,
            emailed: "The authenticator app was removed from your account.",
            answered: "Authenticator app removed.",
        },
    )
    .await
}

pub async fn remove_phone(state: &AppState, req: &Request) -> HandlerResult {
    remove_one(
        state,
        req,
        Removal {
            has: |f| f.phone.is_some(),
            absent: (
                "sms_not_enrolled",
                "There is no phone number on your account.",
            ),
            change: CredentialChange::remove_phone(),
            action: Action::MfaPhoneRemove,
            emailed: "The phone number for codes by text message was removed from your account.",
            answered: "Phone number removed.",
        },
    )
    .await
}

/// A factor of which a user has at most one (the authenticator app, the phone), and what
/// removing it says and does.
struct Removal {
    has: fn(&SecondFactors) -> bool,
    /// 404 when there is none: its code and words.
    absent: (&'static str, &'static str),
    change: CredentialChange,
    action: Action,
    emailed: &'static str,
    answered: &'static str,
}

/// Removes such a factor: a recent proof first, never the last factor, then the change of
/// factors (other sessions end, an email).
async fn remove_one(state: &AppState, req: &Request, removal: Removal) -> HandlerResult {
    let caller = authenticate(state, req, Level::Full).await?;
    require_recent_proof(&caller, Timestamp::now())?;
    let factors = &caller.credentials.factors;
    if !(removal.has)(factors) {
        let (code, message) = removal.absent;
        return Err(ApiError::new(StatusCode::NOT_FOUND, code, message));
    }
    if factors.count() <= 1 {
        return Err(last_factor());
    }
    let user = &caller.user;
    let event = AuditEvent::by(user, removal.action, Some(user), &client_ip(req));
    let cookie = change_factors(state, &caller, &removal.change, &[event], removal.emailed).await?;
    Ok(json_with_cookie(
        StatusCode::OK,
        &Message {
            message: removal.answered,
        },
        cookie,
    ))
}

#[derive(Serialize)]
struct Reproved {
    message: &'static str,
    valid_for_secs: i64,
}

#[derive(Serialize)]
struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

#[derive(Serialize)]
struct KeyNamed {
    id: String,
    name: String,
}
