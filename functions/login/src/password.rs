//! `POST /api/login/password {email, password}`: the first factor. Success gives a session at
//! level `password`, good only for enrolling or checking a second factor.
//!
//! Unknown email, invited user and wrong password answer alike (401 `invalid_credentials`),
//! after the same work: the same requests and one argon2id verification (against a dummy hash
//! when there is no real one). Failures count per typed email and per source address.

use lambda_http::http::StatusCode;
use porter_shared::auth::guard::SignInGuesses;
use porter_shared::auth::session::{set_cookie, PASSWORD_LEVEL_SECS};
use porter_shared::credentials::password::{verify_blocking, DUMMY_HASH};
use porter_shared::domain::{
    AuditEvent, Email, Level, SessionRecord, TenantId, TenantRecord, Timestamp, UserId, UserRecord,
    UserStatus,
};
use porter_shared::http::{
    client_ip, json_with_cookie, parse_json, user_agent, ApiError, HandlerResult, Request,
};
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json as j;

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

/// Three requests one after the other, the same for every address: the guess counters, the
/// email index and the domain's single sign-on route together; an attempt taken while the
/// user and tenant are read; the session with its audit event (or the failure's event) while
/// the counters are cleared.
pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    let body: PasswordRequest = parse_json(req)?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let email = Email::parse(&body.email).ok();
    let mut first = Fetch::default().counters(SignInGuesses::counters(&body.email, &ip));
    if let Some(e) = &email {
        first = first.email_index(e).domain_route(e.domain());
    }
    let first = state.store.fetch(&first).await?;
    let (tid, uid) = first
        .email_ids
        .clone()
        .unwrap_or_else(|| (TenantId::nobody(), UserId::nobody()));
    let mut second = Fetch::default().user(&tid, &uid).tenant(&tid);
    if let Some(routed) = &first.domain_tenant {
        second = second.sso(routed);
    }
    let seen = Some(first.counters);
    let (guesses, found) = tokio::join!(
        SignInGuesses::check_seen(state, &body.email, &ip, seen, now),
        state.store.fetch(&second)
    );
    let (guesses, mut found) = (guesses?, found?);
    let stored_hash = found
        .user
        .as_ref()
        .filter(|(u, _)| u.status == UserStatus::Active)
        .and_then(|(_, c)| c.password_hash.as_ref());
    let matches = password_matches(SecretString::from(body.password), stored_hash).await;
    // A leaked old password must not bypass the customer's identity provider: an address
    // routed to single sign-on fails here exactly like a wrong password.
    let routed = match (&found.sso, &email) {
        (Some((sso, _)), Some(e)) => sso.route(e.domain()).is_some(),
        _ => false,
    };

    let user = match found.user.take() {
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

    let tenant = found.tenant.as_ref();
    let (_, passed) = tokio::join!(
        guesses.succeeded(state),
        first_factor_passed(state, req, &user, tenant, "login.password")
    );
    passed
}

/// The end of a first factor (password or emailed PIN): a session at level `password`, and
/// where the person goes next. Only someone who proved the first factor learns that their
/// organisation is suspended.
pub(crate) async fn first_factor_passed(
    state: &AppState,
    req: &Request,
    user: &UserRecord,
    tenant: Option<&TenantRecord>,
    action: &'static str,
) -> HandlerResult {
    let ip = client_ip(req);
    let now = Timestamp::now();
    if tenant.is_none_or(|t| t.is_suspended()) {
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

/// Verifies `password` against `stored`, or against the dummy hash when there is none (and
/// then answers false), on the blocking pool.
pub(crate) async fn password_matches(
    password: SecretString,
    stored: Option<&SecretString>,
) -> bool {
    let has_real_hash = stored.is_some();
    let hash = stored.map_or_else(|| DUMMY_HASH.to_owned(), |h| h.expose_secret().to_owned());
    let matches = tokio::task::spawn_blocking(move || {
        // Longer than any password the policy allows: refuse without hashing megabytes.
        password.expose_secret().len() <= 1024 && verify_blocking(password.expose_secret(), &hash)
    })
    .await
    .unwrap_or(false);
    matches && has_real_hash
}
