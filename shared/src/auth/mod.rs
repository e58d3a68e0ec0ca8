//! Credentials. Password hashing now; sessions, TOTP, WebAuthn, OIDC and client assertions
//! join here as their flows arrive.

pub mod password;
