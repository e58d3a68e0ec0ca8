//! What a user proves themselves with: the password hash and the second factors, as one typed
//! set instead of loose columns. Read only by the flows that check or change them.

use secrecy::SecretString;

/// A TOTP seed sealed with the service's data key (AES-256-GCM, see `credentials::crypto`):
/// the only form in which a seed is ever stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSeed(String);

impl SealedSeed {
    pub fn new(sealed: String) -> Self {
        Self(sealed)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An authenticator app in use: its seed and the last time step a code was accepted for,
/// so that no code works twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactor {
    pub seed: SealedSeed,
    pub last_step: i64,
}

/// Registered security keys, each as webauthn-rs serialises it (credential id, public key,
/// counter: nothing secret). `credentials::webauthn` turns them into its own type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecurityKeys(pub Vec<serde_json::Value>);

impl SecurityKeys {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Every second factor of a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecondFactors {
    pub totp: Option<TotpFactor>,
    /// A seed shown at enrolment that no code has confirmed yet.
    pub totp_pending: Option<SealedSeed>,
    pub security_keys: SecurityKeys,
    /// Recovery codes not yet spent (only their hashes are stored).
    pub recovery_codes_left: usize,
}

impl SecondFactors {
    /// Whether any factor that proves possession is set up.
    pub fn any(&self) -> bool {
        self.totp.is_some() || !self.security_keys.is_empty()
    }
}

/// The secret side of a user item. No `Debug`: it holds the password hash.
pub struct Credentials {
    pub password_hash: Option<SecretString>,
    pub factors: SecondFactors,
}
