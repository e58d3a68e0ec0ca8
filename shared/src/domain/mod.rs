//! Entities and rules, pure: nothing here performs I/O or draws randomness, and rules take the
//! time as an argument (only `Timestamp::now` reads the clock, for the callers at the edge), so
//! every rule can be tested with fixed values. `store` converts these types to and from items.

pub mod access_token;
pub mod address;
pub mod audit;
pub mod device;
pub mod email;
pub mod factors;
pub mod ids;
pub mod oauth;
pub mod organization;
pub mod password;
pub mod pin;
pub mod platform;
pub mod session;
pub mod sso;
pub mod tenant;
pub mod throttle;
pub mod time;
pub mod token;
pub mod user;

pub use audit::{Action, AuditEvent};
pub use email::Email;
pub use factors::{Credentials, SealedSeed, SecondFactors, SecurityKey, SecurityKeys, TotpFactor};
pub use ids::{ClientId, GrantId, TenantId, UserId};
pub use organization::{OrgScope, TenantKind};
pub use password::{Password, PasswordError};
pub use platform::{Entitlements, PlatformConfig};
pub use session::{Level, PresentedSession, SessionId, SessionOwner, SessionRecord};
pub use sso::{
    DomainClaim, IdpConfig, Provider, SecondFactorPolicy, SsoMethod, SsoPurpose, SsoState,
    TenantSso, VerifiedBy,
};
pub use tenant::{NewTenant, SignInOption, TenantRecord, DEFAULT_MAX_USERS};
pub use time::Timestamp;
pub use token::{OneTimeToken, TokenHash, TokenKind, TokenRecord, TokenState};
pub use user::{Role, UserRecord, UserStatus};
