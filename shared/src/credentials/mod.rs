//! Pure credential code: hashing and checking passwords (argon2id), TOTP codes, recovery
//! codes, the AES-GCM envelope for stored seeds, and WebAuthn through webauthn-rs (feature `webauthn`). Nothing
//! here reads a request or the table.

pub mod crypto;
pub mod oidc;
pub mod password;
pub mod platform_key;
pub mod recovery;
pub mod totp;
#[cfg(feature = "webauthn")]
pub mod webauthn;
