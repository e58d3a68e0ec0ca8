//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser
//! that completed a sign-in gets a random 256-bit value in `__Host-porter_device`, whose hash
//! is stored with the user it was issued to. A password or PIN guess that carries one for the
//! address typed is limited by that device's own counter instead of the account-wide one, so a
//! stranger's guesses never hold the owner's known browser out; the cookie alone proves
//! nothing (the password and the second factor are still needed).
//!
//! A device belongs to one user at one `session_epoch`: whatever ends every session of the
//! user (a password reset, a role change, a suspension) forgets their devices with them, and
//! "sign out everywhere else" carries only this browser's device to the new epoch.

use super::ids::{TenantId, UserId};
use super::time::{Timestamp, DAY};
use super::token::{random_secret, TokenHash};
use super::user::UserRecord;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

/// How long a device cookie (and its item) lives.
pub const DEVICE_LIFETIME_SECS: i64 = 365 * DAY;

/// The longest browser description kept.
const USER_AGENT_MAX: usize = 200;

/// The value in the browser's cookie: handed out once; only its hash is stored.
pub struct DeviceSecret(SecretString);

impl DeviceSecret {
    /// The value for the cookie, and nowhere else.
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A device as stored. Its id on the account page is the hash of its cookie, which cannot be
/// turned back into the cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub hash: TokenHash,
    pub tenant: TenantId,
    pub user: UserId,
    /// The user's `session_epoch` it belongs to.
    pub epoch: i64,
    pub created_at: Timestamp,
    pub last_used_at: Timestamp,
    pub user_agent: String,
    pub expires_at: Timestamp,
}

impl DeviceRecord {
    /// A new device for `user`, at the browser that describes itself as `user_agent`.
    pub fn issue(
        user: &UserRecord,
        user_agent: &str,
        now: Timestamp,
        rng: &mut impl RngCore,
    ) -> (DeviceSecret, Self) {
        let raw = random_secret(rng);
        let hash = TokenHash::digest(&raw);
        let record = Self {
            hash,
            tenant: user.tenant.clone(),
            user: user.id.clone(),
            epoch: user.session_epoch,
            created_at: now,
            last_used_at: now,
            user_agent: user_agent.chars().take(USER_AGENT_MAX).collect(),
            expires_at: now.plus_secs(DEVICE_LIFETIME_SECS),
        };
        (DeviceSecret(SecretString::from(raw)), record)
    }

    /// Whether it speaks for a sign-in as the user `ids` (whom the typed address names), as
    /// far as can be told before the user's item is read.
    pub fn names(&self, ids: Option<&(TenantId, UserId)>, now: Timestamp) -> bool {
        ids.is_some_and(|(t, u)| *t == self.tenant && *u == self.user) && now < self.expires_at
    }

    /// Whether it is `user`'s, now: theirs, in their current epoch, not expired.
    pub fn is_of(&self, user: &UserRecord, now: Timestamp) -> bool {
        user.tenant == self.tenant
            && user.id == self.user
            && user.session_epoch == self.epoch
            && now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, Role, UserStatus};
    use rand::rngs::mock::StepRng;

    fn user(epoch: i64) -> UserRecord {
        UserRecord {
            tenant: TenantId::parse("t_0123456789abcdef").unwrap_or_else(TenantId::nobody),
            id: UserId::parse("u_0123456789abcdef").unwrap_or_else(UserId::nobody),
            email: Email::parse("ann@example.com").unwrap(),
            role: Some(Role::Admin),
            status: UserStatus::Active,
            pending_token: None,
            created_at: 0,
            invited_at: None,
            pending_reset: None,
            session_epoch: epoch,
            has_totp: true,
            has_webauthn: false,
            has_sms: false,
            last_login_at: None,
            idp_subject: None,
            organizations: None,
        }
    }

    #[test]
    fn a_device_is_its_users_until_their_sessions_are_all_ended_or_a_year_passed() {
        let now = Timestamp(1_000_000);
        let ann = user(3);
        let (secret, device) = DeviceRecord::issue(&ann, "Firefox", now, &mut StepRng::new(1, 1));
        assert_eq!(secret.secret().len(), 64);
        assert_eq!(
            device.hash,
            TokenHash::of_presented(secret.secret()).unwrap()
        );
        assert!(device.is_of(&ann, now));
        assert!(!device.is_of(&user(4), now), "a reset moved the epoch");
        assert!(!device.is_of(&ann, now.plus_secs(DEVICE_LIFETIME_SECS)));
        let ids = (ann.tenant.clone(), ann.id.clone());
        assert!(device.names(Some(&ids), now));
        assert!(!device.names(None, now), "an address nobody has");
    }
}
