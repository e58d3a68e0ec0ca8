//! Pure types and rules. Nothing here performs I/O, reads the clock or draws randomness:
//! the time and the RNG are passed in so that every rule can be tested with fixed values.

pub mod email;
pub mod ids;
pub mod password;
pub mod time;
pub mod token;
pub mod user;

pub use email::Email;
pub use ids::{TenantId, UserId};
pub use password::{Password, PasswordError};
pub use time::Timestamp;
pub use token::{OneTimeToken, TokenHash, TokenKind, TokenState};
pub use user::{Role, UserStatus};
