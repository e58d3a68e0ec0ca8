//! `POST /api/login/mfa`: the second factor at sign-in (TOTP code, recovery code, security
//! key or passkey, or a code by text message: `{method: "sms"}` texts one, `{method: "sms",
//! code}` checks it), and `POST /api/login/webauthn/options` to start the security-key ceremony (also the
//! first half of re-authenticating with a key, from a full session).
//! Success replaces the session by a new one at level `full`.

use lambda_http::http::StatusCode;
use porter_shared::auth::ceremony;
use porter_shared::auth::guard::MfaGuesses;
use porter_shared::auth::second_factor::{refuse_if_blocked, sign_in, text_code, Proof};
use porter_shared::auth::session::{authenticate, authenticate_with};
use porter_shared::credentials::webauthn::{passkeys, Ceremony};
use porter_shared::domain::{Level, SessionOwner, Timestamp};
use porter_shared::http::{client_ip, parse_json, ApiError, HandlerResult, Request};
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;

fn invalid_code() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_code",
        "That code is not valid. Try the current one.",
    )
}

/// Three requests one after the other: the session; the user, tenant and guess counter
/// together; one transaction that settles the guess with all it leads to.
pub async fn verify(state: &AppState, req: &Request) -> HandlerResult {
    let with_counter = |s: &SessionOwner| Fetch::default().counters([MfaGuesses::key(&s.user)]);
    let caller = authenticate_with(state, req, Level::Password, with_counter).await?;
    let body: Proof = parse_json(req)?;
    if !caller.user.has_mfa() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "mfa_not_enrolled",
            "Set up a second factor first.",
        ));
    }
    refuse_if_blocked(&caller)?;
    if body.asks_for_text() {
        return text_code(state, &caller, Timestamp::now()).await;
    }
    let ip = client_ip(req);
    let Some(session) = sign_in(state, &caller, &body, &ip, Timestamp::now()).await? else {
        return Err(invalid_code());
    };
    Ok(session.json(&state.config))
}

pub async fn webauthn_options(state: &AppState, req: &Request) -> HandlerResult {
    let caller = authenticate(state, req, Level::Password).await?;
    let keys = passkeys(&caller.credentials.factors.security_keys);
    if keys.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_security_key",
            "No security key is registered for this account. Use your authenticator app or a recovery code.",
        ));
    }
    let (options, ceremony) = state
        .webauthn()?
        .start_passkey_authentication(&keys)
        .map_err(|e| ApiError::internal("webauthn options", &e))?;
    ceremony::begin(state, &caller, Ceremony::Login(ceremony), &options).await
}
