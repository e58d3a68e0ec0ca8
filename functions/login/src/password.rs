//! `POST /api/login/password {email, password}`: the first factor. Success gives a session at
//! level `password`, good only for enrolling or checking a second factor.
//!
//! Unknown email, invited user and wrong password answer alike (401 `invalid_credentials`),
//! after the same work: two reads and one argon2id verification (against a dummy hash when
//! there is no real one). Failures count per typed email and per source address.

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::SignInGuesses;
use porter_shared::auth::session::{set_cookie, PASSWORD_LEVEL_SECS};
use porter_shared::credentials::password::{hash_blocking, verify_blocking};
use porter_shared::domain::{
    AuditEvent, Credentials, Email, Level, SessionRecord, TenantId, Timestamp, UserId, UserRecord,
    UserStatus,
};
use porter_shared::http::{
    client_ip, json_with_cookie, parse_json, user_agent, ApiError, HandlerResult, Request,
};
use porter_shared::{sso, AppState};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json as j;
use std::sync::OnceLock;

#[derive(Deserialize)]
struct PasswordRequest {
    email: String,
    password: String,
}

pub(crate) fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "The email or password is not correct.",
    )
}

pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    let body: PasswordRequest = parse_json(req)?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let guesses = SignInGuesses::check(state, &body.email, &ip, now).await?;
    let found = lookup(state, &body.email).await?;
    let stored_hash = found
        .as_ref()
        .filter(|(u, _)| u.status == UserStatus::Active)
        .and_then(|(_, c)| c.password_hash.as_ref());
    let matches = password_matches(SecretString::from(body.password), stored_hash).await;
    // A leaked old password must not bypass the customer's identity provider: an address
    // routed to single sign-on fails here exactly like a wrong password.
    let routed = match &found {
        Some((user, _)) if matches => sso::route_for(state, &user.email).await?.is_some(),
        _ => false,
    };

    let user = match found {
        Some((user, _)) if matches && !routed => user,
        other => {
            match other {
                Some((user, _)) => {
                    let event = AuditEvent::by(&user, "login.password", Some(&user), &ip);
                    state.store.audit(&event.outcome("failure")).await;
                }
                // Same write for an address nobody has: the same work, and a trace of the try.
                None => {
                    state
                        .store
                        .audit_unregistered_failure(guesses.account(), &ip)
                        .await
                }
            }
            return Err(invalid_credentials());
        }
    };

    guesses.succeeded(state).await;
    first_factor_passed(state, req, &user, "login.password").await
}

/// The end of a first factor (password or emailed PIN): a session at level `password`, and
/// where the person goes next. Only someone who proved the first factor learns that their
/// organisation is suspended.
pub(crate) async fn first_factor_passed(
    state: &AppState,
    req: &Request,
    user: &UserRecord,
    action: &'static str,
) -> HandlerResult {
    let ip = client_ip(req);
    let now = Timestamp::now();
    let tenant = state.store.get_tenant(&user.tenant).await?;
    if tenant.as_ref().is_none_or(|t| t.is_suspended()) {
        return Err(porter_shared::auth::access::tenant_suspended());
    }
    let mut rng = rand::rngs::OsRng;
    let (id, session) = SessionRecord::start(user, Level::Password, now, &mut rng);
    let session = session.seen_from(&ip, &user_agent(req));
    let event = AuditEvent::by(user, action, Some(user), &ip);
    state
        .store
        .start_session(&session, user, &[event], &mut rng)
        .await?;
    let next = if user.has_mfa() {
        "mfa_verify"
    } else {
        "mfa_enroll"
    };
    Ok(json_with_cookie(
        StatusCode::OK,
        &j!({ "next": next }),
        set_cookie(&state.config, id.secret(), PASSWORD_LEVEL_SECS),
    ))
}

/// A real argon2id hash of a random password, made once per instance: verifying against it
/// costs what verifying a real one costs.
pub(crate) fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking("dummy password for timing only").unwrap_or_default())
}

/// Verifies `password` against `stored`, or against the dummy hash when there is none (and
/// then answers false), on the blocking pool.
pub(crate) async fn password_matches(
    password: SecretString,
    stored: Option<&SecretString>,
) -> bool {
    let has_real_hash = stored.is_some();
    let hash = stored.map_or_else(|| dummy_hash().to_owned(), |h| h.expose_secret().to_owned());
    let matches = tokio::task::spawn_blocking(move || {
        // Longer than any password the policy allows: refuse without hashing megabytes.
        password.expose_secret().len() <= 1024 && verify_blocking(password.expose_secret(), &hash)
    })
    .await
    .unwrap_or(false);
    matches && has_real_hash
}

/// The user and credentials behind a typed email. For an unknown address it still reads a
/// (missing) user item, so that both paths make the same requests.
async fn lookup(
    state: &AppState,
    raw_email: &str,
) -> Result<Option<(UserRecord, Credentials)>, ApiError> {
    let ids = match Email::parse(raw_email) {
        Ok(email) => state.store.find_by_email(&email).await?,
        Err(_) => None,
    };
    let (tid, uid) = ids.unwrap_or_else(|| (TenantId::nobody(), UserId::nobody()));
    Ok(state.store.get_user_with_credentials(&tid, &uid).await?)
}
