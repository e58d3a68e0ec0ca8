//! Credentials and sessions: password hashing, TOTP, recovery codes, security keys, the
//! envelope for stored seeds, sessions and throttling.

pub mod access;
pub mod crypto;
pub mod guard;
pub mod password;
pub mod recovery;
pub mod session;
pub mod throttle;
pub mod totp;
pub mod webauthn;
