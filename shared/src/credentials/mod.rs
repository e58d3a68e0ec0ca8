//! Pure credential code: hashing and checking passwords (argon2id), TOTP codes, recovery
//! codes, the AES-GCM envelope for stored seeds (`crypto`), ID tokens of OpenID Connect
//! providers (`oidc`), the platform's private keys and client assertions (`platform_key`),
//! and WebAuthn through webauthn-rs (feature `webauthn`). Nothing here reads a request or the
//! table.

pub mod access;
pub mod crypto;
pub mod oidc;
pub mod password;
pub mod platform_key;
pub mod recovery;
pub mod totp;
#[cfg(feature = "webauthn")]
pub mod webauthn;
