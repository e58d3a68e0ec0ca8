//! One door into a session. Every way of proving who one is — a password, an emailed PIN, the
//! organisation's identity provider, a second factor after a first (or its first enrolment) —
//! ends here once the proof holds: the suspended-organisation rule, the session's level by
//! policy, the events that go with it, the cookie's lifetime, the device cookie a full sign-in
//! leaves (or uses again) and where the person goes next.
//! The flows only prove, and write what this gives them with what the proof spends.

use super::session::Caller;
use crate::domain::device::{DeviceRecord, DeviceSecret, DEVICE_LIFETIME_SECS};
use crate::domain::TokenHash;
use crate::domain::{
    Action, AuditEvent, Level, Role, SessionId, SessionRecord, TenantRecord, Timestamp, UserRecord,
};
use crate::http::cookies::Cookie;
use crate::http::{json_with_cookie, redirect, ApiError, Body, Response};
use crate::store::{Store, StoreError, Writes};
use crate::Config;
use http::{header, HeaderValue, StatusCode};
use rand::rngs::OsRng;
use serde::Serialize;

/// Where a person goes once a sign-in step is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Check the second factor.
    MfaVerify,
    /// Set up the (mandatory) second factor.
    MfaEnroll,
    /// Fully signed in, an admin whose organisation is not set up yet.
    Setup,
    /// Fully signed in.
    App,
}

impl Next {
    /// The name in JSON answers (`next`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MfaVerify => "mfa_verify",
            Self::MfaEnroll => "mfa_enroll",
            Self::Setup => "setup",
            Self::App => "done",
        }
    }

    /// The page it is, for redirects and for the pages (`path` in JSON answers).
    pub fn path(self) -> &'static str {
        match self {
            Self::MfaVerify => "/login?step=mfa_verify",
            Self::MfaEnroll => "/login?step=mfa_enroll",
            Self::Setup => "/app/setup",
            Self::App => "/app",
        }
    }

    /// After a session at `level` for `user` of `tenant`.
    pub fn after(level: Level, user: &UserRecord, tenant: Option<&TenantRecord>) -> Self {
        match level {
            Level::Password if user.has_mfa() => Self::MfaVerify,
            Level::Password => Self::MfaEnroll,
            Level::Full => {
                let setup_pending = tenant.is_some_and(|t| !t.setup_done);
                if user.role == Some(Role::Admin) && setup_pending {
                    Self::Setup
                } else {
                    Self::App
                }
            }
        }
    }
}

/// The JSON answer of a sign-in step: `{next, path}`.
#[derive(Serialize)]
pub struct NextStep {
    pub next: &'static str,
    pub path: &'static str,
}

impl From<Next> for NextStep {
    fn from(n: Next) -> Self {
        Self {
            next: n.as_str(),
            path: n.path(),
        }
    }
}

/// What was proved, and so what the session is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proved {
    /// The password: a first factor.
    Password,
    /// An emailed PIN: a first factor, like the password.
    Pin,
    /// The organisation's identity provider; `then_second_factor` when the organisation's
    /// policy still asks for Porter's own second factor.
    Provider { then_second_factor: bool },
    /// A second factor after the first (`method`: totp, recovery, webauthn).
    SecondFactor { method: &'static str },
    /// A passkey alone: something the user has, unlocked by something they know or are
    /// (user verification), so both factors at once.
    Passkey,
    /// The first second factor set up (`method`), by someone who proved a first factor
    /// (`completes_sign_in`) or who is signed in already through their provider.
    Enrolled {
        method: &'static str,
        completes_sign_in: bool,
    },
}

impl Proved {
    /// The level of the session it earns.
    pub fn level(self) -> Level {
        match self {
            Self::Password | Self::Pin => Level::Password,
            Self::Provider { then_second_factor } if then_second_factor => Level::Password,
            Self::Provider { .. }
            | Self::SecondFactor { .. }
            | Self::Passkey
            | Self::Enrolled { .. } => Level::Full,
        }
    }

    /// The event that records it: a sign-in that ends in a full session is a
    /// `login.success` (with how), a first factor its own step.
    fn event(self, user: &UserRecord, ip: &str) -> Option<AuditEvent> {
        let by = |action| AuditEvent::by(user, action, Some(user), ip);
        Some(match self {
            Self::Password => by(Action::LoginPassword),
            Self::Pin => by(Action::LoginPin),
            Self::Provider { .. } if self.level() == Level::Password => {
                by(Action::LoginSso).outcome("sso")
            }
            Self::Provider { .. } => by(Action::LoginSuccess).outcome("sso"),
            Self::SecondFactor { method } => by(Action::LoginSuccess).outcome(method),
            Self::Passkey => by(Action::LoginSuccess).outcome("passkey"),
            Self::Enrolled {
                method,
                completes_sign_in: true,
            } => by(Action::LoginSuccess).outcome(method),
            Self::Enrolled { .. } => return None,
        })
    }

    /// Its methods in an `amr` claim (RFC 8176; `pin` for an emailed code): a passkey is a
    /// hardware-bound key (`hwk`) that verified its user (`user`).
    fn amr(self) -> &'static [&'static str] {
        match self {
            Self::Password => &["pwd"], // pragma: allowlist secret
            Self::Pin => &["pin"],
            Self::Provider { .. } => &["fed"],
            Self::Passkey => &["hwk", "user"],
            Self::SecondFactor { method } | Self::Enrolled { method, .. } => match method {
                "webauthn" | "passkey" => &["hwk"],
                "sms" => &["sms"],
                _ => &["otp"],
            },
        }
    }

    /// Whether it proves Porter's own second factor, which counts as a recent proof for
    /// changing factors.
    fn is_second_factor(self) -> bool {
        matches!(
            self,
            Self::SecondFactor { .. } | Self::Passkey | Self::Enrolled { .. }
        )
    }
}

/// A session earned by a proof, not yet written: the flow writes [`NewSession::record`] and
/// [`NewSession::events`] with what its proof spends, then answers with [`NewSession::json`]
/// or [`NewSession::redirect`].
pub struct NewSession {
    id: SessionId,
    pub record: SessionRecord,
    pub events: Vec<AuditEvent>,
    pub next: Next,
    /// What a full sign-in does with the browser's device cookie.
    device: Option<DeviceUse>,
}

/// A full sign-in leaves the browser a device cookie: a new one, or the one it brought (the
/// user's, in their current epoch) used again.
enum DeviceUse {
    Issued(DeviceSecret, DeviceRecord),
    Used(TokenHash),
}

/// Where the sign-in is coming from.
pub struct Seen<'a> {
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The browser's device cookie, when it is the user's ([`DeviceRecord::is_of`]).
    pub device: Option<&'a DeviceRecord>,
    /// What the session this sign-in continues had proved (its `amr`), if any.
    pub proved_before: &'a [String],
}

/// The session `proved` earns for `user` of `tenant`, now: refused (403 `tenant_suspended`)
/// when the organisation is suspended or gone; only someone who proved a factor learns that.
/// `events` are recorded before the sign-in's own.
pub fn begin(
    proved: Proved,
    user: &UserRecord,
    tenant: Option<&TenantRecord>,
    from: Seen<'_>,
    mut events: Vec<AuditEvent>,
    now: Timestamp,
) -> Result<NewSession, ApiError> {
    if tenant.is_none_or(|t| t.is_suspended()) {
        return Err(super::access::tenant_suspended());
    }
    let level = proved.level();
    let (id, record) = SessionRecord::start(user, level, now, &mut OsRng);
    let mut record = record.seen_from(from.ip, from.user_agent);
    record.amr = from.proved_before.to_vec();
    for method in proved.amr() {
        if !record.amr.iter().any(|m| m == method) {
            record.amr.push((*method).to_owned());
        }
    }
    if proved.is_second_factor() {
        record.proved_at = Some(now);
    }
    events.extend(proved.event(user, from.ip));
    let device = (level == Level::Full).then(|| match from.device {
        Some(d) if d.is_of(user, now) => DeviceUse::Used(d.hash.clone()),
        _ => {
            let (secret, d) = DeviceRecord::issue(user, from.user_agent, now, &mut OsRng);
            DeviceUse::Issued(secret, d)
        }
    });
    Ok(NewSession {
        id,
        record,
        events,
        next: Next::after(level, user, tenant),
        device,
    })
}

/// The full session a second factor proved by `caller` (at the password level, or signed in
/// through a provider and enrolling a first factor) earns, from where the sign-in began. The
/// flow writes it in place of the caller's session, with what its proof spends.
pub fn after_second_factor(
    caller: &Caller,
    proved: Proved,
    events: Vec<AuditEvent>,
    now: Timestamp,
) -> Result<NewSession, ApiError> {
    let seen = Seen {
        ip: &caller.session.ip,
        user_agent: &caller.session.user_agent,
        device: caller.device.as_ref(),
        proved_before: &caller.session.amr,
    };
    begin(
        proved,
        &caller.user,
        caller.tenant.as_ref(),
        seen,
        events,
        now,
    )
}

impl NewSession {
    /// The cookie that carries the session, for as long as its level lasts.
    pub fn cookie(&self, config: &Config) -> HeaderValue {
        let lifetime = self.record.level.lifetime_secs();
        Cookie::Session.set(config, self.id.secret(), lifetime)
    }

    /// What the device cookie leads to, for the transaction that stores the session: a new
    /// device stored, or the browser's own marked as used now.
    pub fn device_writes(&self, store: &Store) -> Result<Writes, StoreError> {
        match &self.device {
            None => Ok(Writes::none()),
            Some(DeviceUse::Issued(_, d)) => store.device_issue_writes(d),
            Some(DeviceUse::Used(hash)) => {
                let r = &self.record;
                store.device_use_writes(hash, r.created_at, &r.user_agent)
            }
        }
    }

    /// The answer of a step the pages call: `{next, path}` with the cookie.
    pub fn json(&self, config: &Config) -> Response<Body> {
        self.json_with(config, &NextStep::from(self.next))
    }

    /// The answer of a step whose body says more (the recovery codes of an enrolment).
    pub fn json_with(&self, config: &Config, body: &impl Serialize) -> Response<Body> {
        let mut r = json_with_cookie(StatusCode::OK, body, self.cookie(config));
        self.add_device_cookie(&mut r, config);
        r
    }

    /// The answer of a step reached by a redirect (back from the identity provider).
    pub fn redirect(&self, config: &Config) -> Response<Body> {
        let mut r = redirect(self.next.path());
        r.headers_mut()
            .append(header::SET_COOKIE, self.cookie(config));
        self.add_device_cookie(&mut r, config);
        r
    }

    fn add_device_cookie(&self, r: &mut Response<Body>, config: &Config) {
        if let Some(DeviceUse::Issued(secret, _)) = &self.device {
            let cookie = Cookie::Device.set(config, secret.secret(), DEVICE_LIFETIME_SECS);
            r.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, TenantId, UserId, UserStatus};

    fn user(role: Role, has_totp: bool) -> UserRecord {
        UserRecord {
            tenant: TenantId::nobody(),
            id: UserId::nobody(),
            email: Email::parse("ann@example.com").unwrap(),
            role: Some(role),
            status: UserStatus::Active,
            pending_token: None,
            created_at: 0,
            invited_at: None,
            pending_reset: None,
            session_epoch: 0,
            has_totp,
            has_webauthn: false,
            has_sms: false,
            last_login_at: None,
            idp_subject: None,
            organizations: None,
        }
    }

    #[test]
    fn a_first_factor_leads_to_the_second_or_its_enrolment() {
        let with = user(Role::Core, true);
        let without = user(Role::Core, false);
        assert_eq!(Next::after(Level::Password, &with, None), Next::MfaVerify);
        assert_eq!(
            Next::after(Level::Password, &without, None),
            Next::MfaEnroll
        );
        assert_eq!(Next::MfaVerify.path(), "/login?step=mfa_verify");
    }

    #[test]
    fn only_an_admin_of_an_organisation_not_set_up_goes_to_setup() {
        let admin = user(Role::Admin, true);
        assert_eq!(Next::after(Level::Full, &admin, None), Next::App);
        assert_eq!(Next::App.as_str(), "done");
        assert_eq!(Next::Setup.path(), "/app/setup");
    }

    #[test]
    fn a_provider_sign_in_is_full_unless_policy_asks_for_porters_factor() {
        let full = Proved::Provider {
            then_second_factor: false,
        };
        let half = Proved::Provider {
            then_second_factor: true,
        };
        assert_eq!(full.level(), Level::Full);
        assert_eq!(half.level(), Level::Password);
        assert_eq!(Proved::Pin.level(), Level::Password);
    }
}
