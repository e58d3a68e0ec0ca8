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
            source_ip: "operator".to_owned(),
            outcome: "success",
        }
    }

    /// The outcome, when it is not plain success (`failure`, or the method used: `totp`...).
    pub fn outcome(mut self, outcome: &'static str) -> Self {
        self.outcome = outcome;
        self
    }

    /// Names the target in words of its own (e.g. an address kept after the user is gone).
    pub fn target_text(mut self, target: String) -> Self {
        self.target = Some(target);
        self
    }
}
