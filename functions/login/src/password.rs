//! `POST /api/login/password {email, password}`: the first factor. Success gives a session at
//! level `password`, good only for enrolling or checking a second factor.
//!
//! Unknown email, invited user and wrong password answer alike (401 `invalid_credentials`),
//! after the same work: two reads and one argon2id verification (against a dummy hash when
//! there is no real one). Failures count per typed email and per source address.

use lambda_http::http::StatusCode;
use porter_shared::auth::password::verify_blocking;
use porter_shared::auth::session::{new_session, set_cookie, PASSWORD_LEVEL_SECS};
use porter_shared::auth::throttle::{self, retry_after};
use porter_shared::domain::{Email, TenantId, Timestamp, UserId, UserStatus};
use porter_shared::http::{
    client_ip, json_with_cookie, parse_json, ApiError, Body, Request, Response,
};
use porter_shared::store::sessions::Level;
use porter_shared::store::throttle::ThrottleKey;
use porter_shared::store::users::Credentials;
use porter_shared::store::{AuditEvent, StoreError, UserRecord};
use porter_shared::AppState;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json as j;
use std::sync::OnceLock;

#[derive(Deserialize)]
struct PasswordRequest {
    email: String,
    password: String,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
        "The email or password is not correct.",
    )
}

fn store_err(e: StoreError) -> ApiError {
    ApiError::internal("sign-in failed", &e)
}

/// A real argon2id hash of a random password, made once per instance: verifying against it
/// costs what verifying a real one costs.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        porter_shared::auth::password::hash_blocking("dummy password for timing only")
            .unwrap_or_default()
    })
}

/// The account key for throttling: the address as typed, normalised the way sign-in would.
pub(crate) fn account_key(raw_email: &str) -> ThrottleKey {
    ThrottleKey::new("account", &raw_email.trim().to_lowercase())
}

pub async fn handle(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: PasswordRequest = parse_json(req)?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let account = account_key(&body.email);
    let source = ThrottleKey::new("source", &ip);

    let counters = state
        .store
        .get_counters(&[&account, &source])
        .await
        .map_err(store_err)?;
    if let Some(wait) = counters.iter().filter_map(|c| retry_after(c, now)).max() {
        // Guessing on through the delay counts too, so that hammering ends in the lock.
        let counter = state
            .store
            .record_failure(&account, &throttle::ACCOUNT, now, Some(counters[0]))
            .await
            .map_err(store_err)?;
        return Err(ApiError::throttled(
            retry_after(&counter, now).unwrap_or(wait).max(wait),
        ));
    }

    let found = lookup(state, &body.email).await?;
    let stored_hash = found
        .as_ref()
        .filter(|(u, _)| u.status == UserStatus::Active)
        .and_then(|(_, c)| c.password_hash.as_ref())
        .map(|h| h.expose_secret().to_owned());
    let password = SecretString::from(body.password);
    let has_real_hash = stored_hash.is_some();
    let hash = stored_hash.unwrap_or_else(|| dummy_hash().to_owned());
    let matches = tokio::task::spawn_blocking(move || {
        // Longer than any password the policy allows: refuse without hashing megabytes.
        password.expose_secret().len() <= 1024 && verify_blocking(password.expose_secret(), &hash)
    })
    .await
    .unwrap_or(false);

    let user = match found {
        Some((user, _)) if matches && has_real_hash => user,
        other => {
            state
                .store
                .record_failure(&account, &throttle::ACCOUNT, now, Some(counters[0]))
                .await
                .map_err(store_err)?;
            state
                .store
                .record_failure(&source, &throttle::SOURCE, now, Some(counters[1]))
                .await
                .map_err(store_err)?;
            match other {
                Some((user, _)) => {
                    let event = AuditEvent::by_user(&user, "login.password", "failure", &ip);
                    state.store.audit(&event).await;
                }
                // Same write for an address nobody has: the same work, and a trace of the try.
                None => state.store.audit_unregistered_failure(&account, &ip).await,
            }
            return Err(invalid_credentials());
        }
    };

    if counters[0].failures > 0 {
        state
            .store
            .clear_counter(&account)
            .await
            .map_err(store_err)?;
    }
    let (id, session) = new_session(&user, Level::Password, now, &mut rand::rngs::OsRng);
    state.store.put_session(&session).await.map_err(store_err)?;
    state
        .store
        .audit(&AuditEvent::by_user(
            &user,
            "login.password",
            "success",
            &ip,
        ))
        .await;
    let next = if user.has_mfa() {
        "mfa_verify"
    } else {
        "mfa_enroll"
    };
    Ok(json_with_cookie(
        StatusCode::OK,
        &j!({ "next": next }),
        set_cookie(&state.config, &id, PASSWORD_LEVEL_SECS),
    ))
}

/// The user and credentials behind a typed email. For an unknown address it still reads a
/// (missing) user item, so that both paths make the same requests.
async fn lookup(
    state: &AppState,
    raw_email: &str,
) -> Result<Option<(UserRecord, Credentials)>, ApiError> {
    let ids = match Email::parse(raw_email) {
        Ok(email) => state.store.find_by_email(&email).await.map_err(store_err)?,
        Err(_) => None,
    };
    match ids {
        Some((tid, uid)) => state
            .store
            .get_user_with_credentials(&tid, &uid)
            .await
            .map_err(store_err),
        None => {
            let (tid, uid) = nobody();
            state
                .store
                .get_user_with_credentials(&tid, &uid)
                .await
                .map_err(store_err)?;
            Ok(None)
        }
    }
}

fn nobody() -> (TenantId, UserId) {
    (
        TenantId::parse("t_0000000000000000")
            .unwrap_or_else(|| TenantId::generate(&mut rand::rngs::OsRng)),
        UserId::parse("u_0000000000000000")
            .unwrap_or_else(|| UserId::generate(&mut rand::rngs::OsRng)),
    )
}
