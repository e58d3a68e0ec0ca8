//! Managed organizations: an MSP tenant, the organizations it manages, and which of them each
//! of its people may act in. Pure rules; `store/organizations.rs` keeps them.

use super::ids::TenantId;
use super::tenant::TenantRecord;
use super::time::Timestamp;
use super::user::UserRecord;
use serde::Serialize;

/// How many organizations an MSP may manage unless the operator says otherwise.
pub const DEFAULT_MAX_ORGANIZATIONS: u32 = 50;

pub use super::user::OrgScope;

/// What kind of tenant a tenant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TenantKind {
    Standalone,
    Msp,
    Managed,
}

impl TenantKind {
    pub fn of(t: &TenantRecord) -> Self {
        if t.parent.is_some() {
            Self::Managed
        } else if t.max_organizations.is_some() {
            Self::Msp
        } else {
            Self::Standalone
        }
    }
}

/// Whether `user` may act in `org`: a person with a role of the MSP that manages it, with the
/// organization in their scope. The MSP's own people act in the MSP without asking this.
pub fn may_act_in(user: &UserRecord, org: &TenantRecord) -> bool {
    user.role.is_some()
        && org.parent.as_ref() == Some(&user.tenant)
        && user.org_scope().allows(&org.id)
}

/// Everything creating a managed organization writes, decided by the caller.
pub struct NewOrganization {
    pub id: TenantId,
    pub msp: TenantId,
    pub name: String,
    pub max_users: u32,
    pub now: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::user::MAX_SCOPE_IDS;
    use crate::domain::Role;
    use serde_json::json;

    fn tid(n: u8) -> TenantId {
        TenantId::parse(&format!(
            "t_{}",
            char::from(b'a' + n).to_string().repeat(16)
        ))
        .unwrap()
    }

    #[test]
    fn a_scope_is_all_or_a_list_of_ids_and_nothing_else() {
        assert_eq!(OrgScope::parse(&json!("all")), Some(OrgScope::All));
        let ids = json!([tid(0).as_str(), tid(1).as_str(), tid(0).as_str()]);
        assert_eq!(
            OrgScope::parse(&ids),
            Some(OrgScope::Only(vec![tid(0), tid(1)]))
        );
        assert_eq!(OrgScope::parse(&json!([])), Some(OrgScope::Only(vec![])));
        for junk in [
            json!("ALL"),
            json!(["t_../x"]),
            json!(3),
            json!([1]),
            json!(null),
        ] {
            assert_eq!(OrgScope::parse(&junk), None, "{junk}");
        }
        let many: Vec<_> = (0..=MAX_SCOPE_IDS)
            .map(|_| tid(0).as_str().to_owned())
            .collect();
        assert_eq!(OrgScope::parse(&json!(many)), None);
    }

    #[test]
    fn admins_reach_every_organization_by_default_and_core_users_none() {
        assert!(OrgScope::default_for(Some(Role::Admin)).allows(&tid(2)));
        assert!(!OrgScope::default_for(Some(Role::Core)).allows(&tid(2)));
        assert!(!OrgScope::default_for(None).allows(&tid(2)));
        let only = OrgScope::Only(vec![tid(2), tid(3)]);
        assert!(only.allows(&tid(3)) && !only.allows(&tid(4)));
        assert_eq!(only.to_json(), json!([tid(2).as_str(), tid(3).as_str()]));
    }
}
