//! Tenants: a customer organisation, its seat limit and its setup state.

use super::email::Email;
use super::ids::{TenantId, UserId};
use super::time::Timestamp;
use super::token::OneTimeToken;
use serde::Serialize;

pub const DEFAULT_MAX_USERS: u32 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantRecord {
    pub id: TenantId,
    pub name: String,
    pub status: String,
    pub max_users: u32,
    pub user_count: u32,
    pub setup_done: bool,
    /// The name the admin gave at setup; shown instead of `name` once set.
    pub organisation_name: Option<String>,
    pub created_at: String,
    /// What the last successful license check said the tenant may use.
    pub entitlements: Option<super::platform::Entitlements>,
    /// Whether its people may sign in with a PIN emailed to them instead of the password
    /// (the second factor is still required). Off unless an admin turns it on.
    pub email_pin: bool,
    /// Whether its people may sign in with a passkey alone. On unless an admin turns it off.
    pub passkey_sign_in: bool,
    /// Whether its people may add a phone number and receive a code by text message as a
    /// second factor (a restricted authenticator in NIST SP 800-63B). Off unless an admin
    /// turns it on.
    pub sms_mfa: bool,
    /// The MSP that manages this organization, if one does.
    pub parent: Option<TenantId>,
    /// Set on an MSP: how many organizations it may manage.
    pub max_organizations: Option<u32>,
    /// How many organizations an MSP manages now.
    pub org_count: u32,
}

/// A sign-in option an admin turns on or off (Configuration → Sign-in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInOption {
    /// [`TenantRecord::email_pin`].
    EmailPin,
    /// [`TenantRecord::passkey_sign_in`].
    PasskeySignIn,
    /// [`TenantRecord::sms_mfa`].
    SmsMfa,
}

impl SignInOption {
    /// The outcome of the audit event that records it turned `on` or off.
    pub fn outcome(self, on: bool) -> &'static str {
        match (self, on) {
            (Self::EmailPin, true) => "email_pin_on",
            (Self::EmailPin, false) => "email_pin_off",
            (Self::PasskeySignIn, true) => "passkey_sign_in_on",
            (Self::PasskeySignIn, false) => "passkey_sign_in_off",
            (Self::SmsMfa, true) => "sms_mfa_on",
            (Self::SmsMfa, false) => "sms_mfa_off",
        }
    }
}

impl TenantRecord {
    /// The tenant with `option` turned `on` or off.
    pub fn with_option(mut self, option: SignInOption, on: bool) -> Self {
        match option {
            SignInOption::EmailPin => self.email_pin = on,
            SignInOption::PasskeySignIn => self.passkey_sign_in = on,
            SignInOption::SmsMfa => self.sms_mfa = on,
        }
        self
    }

    /// Whether the operator suspended the tenant: then nobody of it signs in.
    pub fn is_suspended(&self) -> bool {
        self.status == "suspended"
    }

    pub fn display_name(&self) -> &str {
        self.organisation_name.as_deref().unwrap_or(&self.name)
    }
}

/// Everything registering a tenant writes, decided by the caller (ids, token, time).
pub struct NewTenant<'a> {
    pub id: TenantId,
    pub name: String,
    pub max_users: u32,
    pub admin_id: UserId,
    pub admin_email: Email,
    pub invitation: &'a OneTimeToken,
    pub now: Timestamp,
}
