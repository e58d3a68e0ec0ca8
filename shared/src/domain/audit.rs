//! Audit events: who did what to whom, from where, with what outcome. The store stamps each
//! event with the time it is written, in the same transaction as the change it describes.

use super::ids::TenantId;
use super::user::UserRecord;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub tenant: TenantId,
    /// Who acted: a user id, or `operator`.
    pub actor: String,
    /// What happened, e.g. `tenant.create`, `user.activate`, `invitation.resend`.
    pub action: &'static str,
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
}

impl AuditEvent {
    /// `actor` did `action` to `target` (or to nobody in particular) from `source_ip`, with
    /// success; see [`Self::outcome`] for anything else.
    pub fn by(
        actor: &UserRecord,
        action: &'static str,
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
        }
    }

    /// Something the operator did to a tenant (through porterctl).
    pub fn by_operator(tenant: &TenantId, action: &'static str, target: Option<String>) -> Self {
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

    /// Names the target in words of its own (e.g. an address kept after the user is gone).
    pub fn target_text(mut self, target: String) -> Self {
        self.target = Some(target);
        self
    }
}
