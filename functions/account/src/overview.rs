//! `GET /api/account`: what the account page shows. Only live sessions and the devices still
//! the user's are listed (ended ones linger in the table until their TTL); a session's or a
//! device's id is the hash of its cookie value, which cannot be turned back into a cookie.

use lambda_http::http::StatusCode;
use porter_shared::auth::session::authenticate_alongside;
use porter_shared::domain::factors::masked_phone;
use porter_shared::domain::{Level, SessionOwner, Timestamp};
use porter_shared::http::{json, HandlerResult, Request};
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;
use serde::Serialize;

fn time(secs: i64) -> String {
    Timestamp(secs).to_rfc3339()
}

/// Two requests one after the other: the session; then the user, tenant and the tenant's
/// single sign-on configuration together, while the sessions and the devices are listed.
pub async fn show(state: &AppState, req: &Request) -> HandlerResult {
    let with_sso = |s: &SessionOwner| Fetch::default().sso(&s.tenant);
    let list = |tid, uid| async move { state.store.list_sessions_and_devices(&tid, &uid).await };
    let (caller, (mut sessions, mut devices)) =
        authenticate_alongside(state, req, Level::Full, with_sso, list).await?;
    let now = Timestamp::now();
    let user = &caller.user;
    let factors = &caller.credentials.factors;
    let keys: Vec<_> = factors
        .security_keys
        .0
        .iter()
        .map(|k| KeyView {
            id: &k.id,
            name: &k.name,
            created_at: time(k.created_at),
            last_used_at: k.last_used_at.map(time),
            passkey: k.discoverable,
        })
        .collect();
    sessions.retain(|s| s.is_live(user, now));
    sessions.sort_by_key(|s| std::cmp::Reverse(s.last_seen));
    let sessions: Vec<_> = sessions
        .iter()
        .map(|s| SessionView {
            id: s.hash.as_str(),
            created_at: time(s.created_at.0),
            last_seen_at: time(s.last_seen.0),
            ip: &s.ip,
            user_agent: &s.user_agent,
            current: s.hash == caller.session.hash,
        })
        .collect();
    devices.retain(|d| d.is_of(user, now));
    devices.sort_by_key(|d| std::cmp::Reverse(d.last_used_at));
    let this_device = caller.device.as_ref().map(|d| &d.hash);
    let devices: Vec<_> = devices
        .iter()
        .map(|d| DeviceView {
            id: d.hash.as_str(),
            created_at: time(d.created_at.0),
            last_used_at: time(d.last_used_at.0),
            user_agent: &d.user_agent,
            current: Some(&d.hash) == this_device,
        })
        .collect();
    // A domain is routed to one tenant at most, and its users' addresses are the domain's:
    // the caller's own tenant's configuration says whether their password is managed there.
    let managed_by_idp = caller
        .more
        .sso
        .as_ref()
        .is_some_and(|(sso, _)| sso.route(user.email.domain()).is_some());
    Ok(json(
        StatusCode::OK,
        &Account {
            email: user.email.as_str(),
            role: user.role.map(|r| r.as_str()),
            factors: Factors {
                totp: factors.totp.is_some(),
                security_keys: keys,
                recovery_codes_left: factors.recovery_codes_left,
                phone: factors.phone.as_deref().map(masked_phone),
                sms_allowed: caller.tenant.as_ref().is_some_and(|t| t.sms_mfa),
                passkey_sign_in: caller.tenant.as_ref().is_some_and(|t| t.passkey_sign_in),
            },
            sessions,
            devices,
            password: PasswordView { managed_by_idp },
            recently_proved: caller.session.recently_proved(now),
        },
    ))
}

/// What the account page shows.
#[derive(Serialize)]
struct Account<'a> {
    email: &'a str,
    role: Option<&'static str>,
    factors: Factors<'a>,
    sessions: Vec<SessionView<'a>>,
    devices: Vec<DeviceView<'a>>,
    password: PasswordView,
    recently_proved: bool,
}

#[derive(Serialize)]
struct Factors<'a> {
    totp: bool,
    security_keys: Vec<KeyView<'a>>,
    recovery_codes_left: usize,
    /// The number codes are texted to, masked; `None` when there is none.
    phone: Option<String>,
    /// Whether the organisation lets people add a number.
    sms_allowed: bool,
    /// Whether the organisation lets passkeys sign in on their own.
    passkey_sign_in: bool,
}

#[derive(Serialize)]
struct KeyView<'a> {
    id: &'a str,
    name: &'a str,
    created_at: String,
    last_used_at: Option<String>,
    /// A passkey, which also signs in on its own.
    passkey: bool,
}

#[derive(Serialize)]
struct SessionView<'a> {
    id: &'a str,
    created_at: String,
    last_seen_at: String,
    ip: &'a str,
    user_agent: &'a str,
    current: bool,
}

/// A browser that completed a sign-in and holds a device cookie (its id: the cookie's hash).
#[derive(Serialize)]
struct DeviceView<'a> {
    id: &'a str,
    created_at: String,
    last_used_at: String,
    user_agent: &'a str,
    current: bool,
}

#[derive(Serialize)]
struct PasswordView {
    managed_by_idp: bool,
}
