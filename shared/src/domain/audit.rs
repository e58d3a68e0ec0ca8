//! Audit events: who did what to whom, from where, with what outcome. The store stamps each
//! event with the time it is written, in the same transaction as the change it describes.

use super::ids::TenantId;
use super::user::UserRecord;

/// What happened, as stored (`as_str`) and as people read it (`label`, [`Action::describe`]):
/// each variant's name and label are in [`Action::TABLE`], in declaration order. The audit
/// view serves both, so no page keeps its own copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(usize)]
pub enum Action {
    TenantCreate,
    TenantSetup,
    TenantSuspend,
    TenantResume,
    UserInvite,
    UserActivate,
    UserRoleChange,
    UserRemove,
    InvitationResend,
    LoginPassword,
    LoginPin,
    LoginPinRequested,
    LoginMfa,
    LoginSuccess,
    LoginSso,
    MfaEnroll,
    MfaRecoveryCodes,
    MfaKeyRename,
    MfaKeyRemove,
    MfaTotpRemove,
    MfaPhoneRemove,
    AccountReauth,
    AccountPassword,
    PasswordResetRequested,
    PasswordReset,
    SessionEnd,
    SessionEndOthers,
    DeviceForget,
    MfaBlocked,
    ConfigSignin,
    SsoConfigure,
    SsoTest,
    SsoActivate,
    SsoDisable,
    SsoLink,
    SsoSecondFactor,
    DomainAdd,
    DomainVerify,
    DomainRemove,
    PlatformConfigure,
    LicenseCheck,
    OrganizationCreate,
    OrganizationRename,
    OrganizationRemove,
    OrganizationScope,
    OrganizationSwitch,
    AppSignIn,
    AppRevoked,
}

impl Action {
    /// Every action with its stored name and its label, in the order the audit filter offers
    /// them: the one table both are read from.
    pub const TABLE: [(Action, &'static str, &'static str); 48] = [
        (Self::TenantCreate, "tenant.create", "Organisation created"),
        (Self::TenantSetup, "tenant.setup", "Organisation set up"),
        (
            Self::TenantSuspend,
            "tenant.suspend",
            "Organisation suspended",
        ),
        (Self::TenantResume, "tenant.resume", "Organisation resumed"),
        (Self::UserInvite, "user.invite", "Invited a user"),
        (Self::UserActivate, "user.activate", "Activated the account"),
        (Self::UserRoleChange, "user.role_change", "Changed a role"),
        (Self::UserRemove, "user.remove", "Removed a user"),
        (
            Self::InvitationResend,
            "invitation.resend",
            "Sent a new invitation",
        ),
        (Self::LoginPassword, "login.password", "Password step"), // pragma: allowlist secret
        (
            Self::LoginPin,
            "login.pin",
            "Signed in with an emailed code (first step)",
        ),
        (
            Self::LoginPinRequested,
            "login.pin_requested",
            "Asked for a sign-in code by email",
        ),
        (
            Self::LoginMfa,
            "login.mfa",
            "Entered a wrong second-factor code",
        ),
        (Self::LoginSuccess, "login.success", "Signed in"),
        (Self::LoginSso, "login.sso", "Single sign-on step"),
        (Self::MfaEnroll, "mfa.enroll", "Set up a second factor"),
        (
            Self::MfaRecoveryCodes,
            "mfa.recovery_codes",
            "Made new recovery codes",
        ),
        (
            Self::MfaKeyRename,
            "mfa.key_rename",
            "Renamed a security key",
        ),
        (
            Self::MfaKeyRemove,
            "mfa.key_remove",
            "Removed a security key",
        ),
        (
            Self::MfaTotpRemove,
            "mfa.totp_remove",
            "Removed the authenticator app",
        ),
        (
            Self::MfaPhoneRemove,
            "mfa.phone_remove",
            "Removed the phone number for text messages",
        ),
        (
            Self::AccountReauth,
            "account.reauth",
            "Confirmed identity again",
        ),
        (
            Self::AccountPassword,
            "account.password",
            "Changed the password",
        ), // pragma: allowlist secret
        (
            Self::PasswordResetRequested,
            "password.reset_requested",
            "Asked for a password reset",
        ), // pragma: allowlist secret
        (Self::PasswordReset, "password.reset", "Reset the password"), // pragma: allowlist secret
        (Self::SessionEnd, "session.end", "Signed a session out"),
        (
            Self::SessionEndOthers,
            "session.end_others",
            "Signed out everywhere else",
        ),
        (Self::DeviceForget, "device.forget", "Forgot a device"),
        (
            Self::MfaBlocked,
            "mfa.blocked",
            "Second factor blocked after too many wrong codes",
        ),
        (
            Self::ConfigSignin,
            "config.signin",
            "Changed sign-in with emailed codes",
        ),
        (
            Self::SsoConfigure,
            "sso.configure",
            "Saved a single sign-on configuration",
        ),
        (Self::SsoTest, "sso.test", "Tested single sign-on"),
        (
            Self::SsoActivate,
            "sso.activate",
            "Turned single sign-on on",
        ),
        (Self::SsoDisable, "sso.disable", "Turned single sign-on off"),
        (Self::SsoLink, "sso.link", "Linked a company sign-in"),
        (
            Self::SsoSecondFactor,
            "sso.second_factor",
            "Changed the second factor after single sign-on",
        ),
        (Self::DomainAdd, "domain.add", "Added a domain"),
        (Self::DomainVerify, "domain.verify", "Verified a domain"),
        (Self::DomainRemove, "domain.remove", "Removed a domain"),
        (
            Self::PlatformConfigure,
            "platform.configure",
            "Saved the platform connection",
        ),
        (Self::LicenseCheck, "license.check", "Checked the license"),
        (
            Self::OrganizationCreate,
            "organization.create",
            "Added a managed organization",
        ),
        (
            Self::OrganizationRename,
            "organization.rename",
            "Renamed a managed organization",
        ),
        (
            Self::OrganizationRemove,
            "organization.remove",
            "Removed a managed organization",
        ),
        (
            Self::OrganizationScope,
            "organization.scope",
            "Changed which organizations someone may work in",
        ),
        (
            Self::OrganizationSwitch,
            "organization.switch",
            "Switched to another organization",
        ),
        (Self::AppSignIn, "app.sign_in", "Signed in to an app"),
        (
            Self::AppRevoked,
            "app.revoked",
            "An app's sign-in was revoked",
        ),
    ];

    /// Every action, in the table's order.
    pub fn all() -> impl Iterator<Item = Action> {
        Self::TABLE.iter().map(|(a, _, _)| *a)
    }

    /// The table lists the variants in declaration order (a unit test checks it), so a
    /// variant's discriminant is its row.
    fn entry(self) -> &'static (Action, &'static str, &'static str) {
        &Self::TABLE[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.entry().1
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::TABLE
            .iter()
            .find(|(_, n, _)| *n == s)
            .map(|(a, _, _)| *a)
    }

    /// The action in words, for a list of actions.
    pub fn label(self) -> &'static str {
        self.entry().2
    }

    /// One event of this action as a sentence: its outcome, whom it concerned and the word
    /// more it carries change the words.
    pub fn describe(
        self,
        outcome: &str,
        target_email: Option<&str>,
        detail: Option<&str>,
    ) -> String {
        let whom = target_email.unwrap_or("a user");
        let failed = outcome == "failure";
        let with = match outcome {
            "totp" => Some("an authenticator app"),
            "webauthn" => Some("a security key"),
            "recovery" => Some("a recovery code"),
            "pin" => Some("an emailed code"),
            "passkey" => Some("a passkey"),
            "sms" => Some("a code by text message"),
            "sso" => Some("the company's identity provider"),
            _ => None,
        };
        match self {
            Self::UserInvite => match detail {
                Some(role) => format!("Invited {whom} as {role}"),
                None => format!("Invited {whom}"),
            },
            Self::UserActivate if outcome == "pin" => {
                "Activated the account with an emailed code".to_owned()
            }
            Self::UserRoleChange => format!("Made {whom} {}", detail.unwrap_or("another role")),
            Self::UserRemove => format!("Removed {whom}"),
            Self::InvitationResend => format!("Sent a new invitation to {whom}"),
            Self::LoginPassword if outcome == "success" => "Entered the right password".to_owned(),
            Self::LoginPassword => "Typed a wrong password".to_owned(), // pragma: allowlist secret
            Self::LoginSuccess | Self::MfaEnroll => match (self, with) {
                (Self::LoginSuccess, Some(w)) => format!("Signed in with {w}"),
                (Self::LoginSuccess, None) => "Signed in".to_owned(),
                (_, Some(w)) => format!("Set up {w}"),
                (_, None) => "Set up a second factor".to_owned(),
            },
            Self::LoginSso if failed => "Single sign-on failed".to_owned(),
            Self::LoginSso => {
                "Signed in through the company's identity provider (first step)".to_owned()
            }
            Self::AccountReauth if failed => "Failed to confirm identity".to_owned(),
            Self::AccountPassword if failed => "Typed a wrong current password".to_owned(),
            Self::ConfigSignin if outcome == "email_pin_on" => {
                "Turned sign-in with emailed codes on".to_owned()
            }
            Self::ConfigSignin if outcome == "email_pin_off" => {
                "Turned sign-in with emailed codes off".to_owned()
            }
            Self::ConfigSignin if outcome == "passkey_sign_in_on" => {
                "Turned sign-in with a passkey on".to_owned()
            }
            Self::ConfigSignin if outcome == "passkey_sign_in_off" => {
                "Turned sign-in with a passkey off".to_owned()
            }
            Self::ConfigSignin if outcome == "sms_mfa_on" => {
                "Allowed codes by text message as a second factor".to_owned()
            }
            Self::ConfigSignin if outcome == "sms_mfa_off" => {
                "Stopped codes by text message as a second factor".to_owned()
            }
            Self::ConfigSignin => "Changed the sign-in options".to_owned(),
            Self::SsoTest if failed => "A single sign-on test failed".to_owned(),
            Self::SsoSecondFactor if outcome == "never" => {
                "Turned Porter's second factor after single sign-on off".to_owned()
            }
            Self::SsoSecondFactor if outcome == "always" => {
                "Asked for Porter's second factor after every single sign-on".to_owned()
            }
            Self::SsoSecondFactor => {
                "Asked for Porter's second factor unless the provider proved two".to_owned()
            }
            Self::DomainAdd => format!("Added the domain {}", detail.unwrap_or("a domain")),
            Self::DomainVerify if outcome == "operator" => format!(
                "The operator verified the domain {}",
                detail.unwrap_or("a domain")
            ),
            Self::DomainVerify => format!(
                "Verified the domain {} by DNS",
                detail.unwrap_or("a domain")
            ),
            Self::DomainRemove => format!("Removed the domain {}", detail.unwrap_or("a domain")),
            Self::LicenseCheck if failed => "A license check failed".to_owned(),
            Self::OrganizationCreate | Self::OrganizationRename | Self::OrganizationRemove => {
                detail.map_or_else(
                    || self.label().to_owned(),
                    |name| format!("{} {name}", self.label()),
                )
            }
            Self::OrganizationSwitch => detail.map_or_else(
                || self.label().to_owned(),
                |name| format!("Switched to {name}"),
            ),
            Self::AppSignIn => detail.map_or_else(
                || self.label().to_owned(),
                |name| format!("Signed in to {name}"),
            ),
            Self::AppRevoked => format!(
                "The sign-in to {} was revoked: a code or refresh token was used twice",
                detail.unwrap_or("an app")
            ),
            other => other.label().to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub tenant: TenantId,
    /// Who acted: a user id, or `operator`.
    pub actor: String,
    /// What happened.
    pub action: Action,
    /// Whom it concerned, if anyone.
    pub target: Option<String>,
    /// The addresses of actor and target as they were when it happened: the audit view shows
    /// people by address, and a removed user's address stays in their events.
    pub actor_email: Option<String>,
    pub target_email: Option<String>,
    /// A word more for people reading the trail (e.g. the role someone was invited with).
    pub detail: Option<String>,
    pub source_ip: String,
    pub outcome: &'static str,
    /// The MSP whose staff member acted, when they acted in an organization it manages.
    pub via: Option<String>,
}

impl AuditEvent {
    /// `actor` did `action` to `target` (or to nobody in particular) from `source_ip`, with
    /// success; see [`Self::outcome`] for anything else.
    pub fn by(
        actor: &UserRecord,
        action: Action,
        target: Option<&UserRecord>,
        source_ip: &str,
    ) -> Self {
        Self {
            tenant: actor.tenant.clone(),
            actor: actor.id.to_string(),
            action,
            target: target.map(|t| t.id.to_string()),
            actor_email: Some(actor.email.as_str().to_owned()),
            target_email: target.map(|t| t.email.as_str().to_owned()),
            detail: None,
            source_ip: source_ip.to_owned(),
            outcome: "success",
            via: None,
        }
    }

    /// Something the operator did to a tenant (through porterctl).
    pub fn by_operator(tenant: &TenantId, action: Action, target: Option<String>) -> Self {
        Self {
            tenant: tenant.clone(),
            actor: "operator".to_owned(),
            action,
            target,
            actor_email: None,
            target_email: None,
            detail: None,
            source_ip: "operator".to_owned(),
            outcome: "success",
            via: None,
        }
    }

    /// The outcome, when it is not plain success (`failure`, or the method used: `totp`...).
    pub fn outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = outcome;
        self
    }

    /// The target's address, when the target is not at hand as a user record.
    pub fn target_email(mut self, email: &str) -> Self {
        self.target_email = Some(email.to_owned());
        self
    }

    /// A word more for the reader (e.g. a role's label).
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Recorded in `tenant`'s log (an organization an MSP manages) as done by a person of
    /// the MSP named `msp`.
    pub fn acting_in(mut self, tenant: &TenantId, msp: &str) -> Self {
        self.tenant = tenant.clone();
        self.via = Some(msp.to_owned());
        self
    }

    /// Names the target in words of its own (e.g. an address kept after the user is gone).
    pub fn target_text(mut self, target: String) -> Self {
        self.target = Some(target);
        self
    }
}

#[cfg(test)]
mod action_tests {
    use super::Action;

    #[test]
    fn every_action_reads_back_from_its_name_and_has_words() {
        let all: Vec<Action> = Action::all().collect();
        for (row, a) in all.iter().enumerate() {
            assert_eq!(*a as usize, row, "{a:?} is out of declaration order");
        }
        assert_eq!(
            Action::AppRevoked as usize,
            all.len() - 1,
            "the last variant"
        );
        for a in all {
            assert_eq!(Action::parse(a.as_str()), Some(a));
            assert!(!a.label().is_empty() && a.label() != a.as_str());
        }
        assert_eq!(Action::parse("nothing.like.this"), None);
    }
}
