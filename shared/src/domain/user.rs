//! Users: roles, account states, and the user record.

use super::email::Email;
use super::ids::{TenantId, UserId};
use super::token::TokenHash;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// "Solutions Admin": everything, Configuration included.
    Admin,
    /// "Solutions Core": the product, never Configuration.
    Core,
}

impl Role {
    /// Every role, in the order people are offered them.
    pub const ALL: [Role; 2] = [Role::Admin, Role::Core];
    /// What a user without a role is called.
    pub const NONE_LABEL: &'static str = "No role yet";

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Core => "core",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Self::Admin),
            "core" => Some(Self::Core),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Admin => "Solutions Admin",
            Self::Core => "Solutions Core",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    /// Added and emailed; no password yet.
    Invited,
    /// Has set a password.
    Active,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "invited" => Some(Self::Invited),
            "active" => Some(Self::Active),
            _ => None,
        }
    }
}

/// A user as stored. The password hash and second factors are deliberately not part of this
/// type: only the flows that check them read them, as [`Credentials`](super::Credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub tenant: TenantId,
    pub id: UserId,
    pub email: Email,
    pub role: Option<Role>,
    pub status: UserStatus,
    /// Hash of the activation token that currently works, while invited.
    pub pending_token: Option<TokenHash>,
    pub created_at: i64,
    /// When the current invitation link was issued.
    pub invited_at: Option<i64>,
    /// Hash of the password-reset token that currently works, if any.
    pub pending_reset: Option<TokenHash>,
    /// Bumped to end every session of the user at once (password reset, role change).
    pub session_epoch: i64,
    pub has_totp: bool,
    pub has_webauthn: bool,
    /// A confirmed phone number that receives codes by text message.
    pub has_sms: bool,
    pub last_login_at: Option<i64>,
    /// The external identity linked to this user (`<issuer>#<sub>`), if any.
    pub idp_subject: Option<String>,
    /// Where a person of an MSP may act (`None`: the default of their role).
    pub organizations: Option<OrgScope>,
}

impl UserRecord {
    /// The organizations of their MSP this person may act in.
    pub fn org_scope(&self) -> OrgScope {
        self.organizations
            .clone()
            .unwrap_or_else(|| OrgScope::default_for(self.role))
    }

    /// Whether a second factor is set up; until it is, a sign-in can only enrol one.
    pub fn has_mfa(&self) -> bool {
        self.has_totp || self.has_webauthn || self.has_sms
    }
}

/// The most organization ids one person's scope may list (a scope is stored on the user item).
pub const MAX_SCOPE_IDS: usize = 100;

/// Where a person of an MSP may act besides the MSP itself: every organization it manages, or
/// the ones listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgScope {
    All,
    Only(Vec<TenantId>),
}

impl OrgScope {
    /// What a person gets until an admin says otherwise: admins every organization, others none.
    pub fn default_for(role: Option<Role>) -> Self {
        match role {
            Some(Role::Admin) => Self::All,
            _ => Self::Only(Vec::new()),
        }
    }

    pub fn allows(&self, org: &TenantId) -> bool {
        match self {
            Self::All => true,
            Self::Only(ids) => ids.contains(org),
        }
    }

    /// `"all"` or a list of organization ids (duplicates dropped); `None` for anything else.
    pub fn parse(value: &serde_json::Value) -> Option<Self> {
        match value {
            serde_json::Value::String(s) if s == "all" => Some(Self::All),
            serde_json::Value::Array(items) if items.len() <= MAX_SCOPE_IDS => {
                let mut ids: Vec<TenantId> = Vec::with_capacity(items.len());
                for item in items {
                    let id = TenantId::parse(item.as_str()?)?;
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                }
                Some(Self::Only(ids))
            }
            _ => None,
        }
    }

    /// The form the API answers and the user item keeps.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Self::All => serde_json::Value::String("all".into()),
            Self::Only(ids) => ids
                .iter()
                .map(|i| serde_json::Value::from(i.as_str()))
                .collect(),
        }
    }
}
