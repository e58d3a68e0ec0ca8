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

/// A registered security key: what the account page shows of it, and the key itself as
/// webauthn-rs serialises it (credential id, public key, counter: nothing secret).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SecurityKey {
    /// The credential id, base64url: how the account page names the key.
    pub id: String,
    /// Chosen by the user ("Blue YubiKey").
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub passkey: serde_json::Value,
}

/// Registered security keys. `credentials::webauthn` turns them into its own type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecurityKeys(pub Vec<SecurityKey>);

/// The longest key name kept.
pub const KEY_NAME_MAX: usize = 60;

/// A key name as the user typed it, made safe to show: control and bidi characters dropped,
/// spaces collapsed, at most [`KEY_NAME_MAX`] characters; `None` when nothing is left.
pub fn key_name(raw: &str) -> Option<String> {
    let kept: String = raw
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let name = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    let name: String = name.chars().take(KEY_NAME_MAX).collect();
    (!name.is_empty()).then_some(name)
}

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
    /// How many times the key list was written (0: never). Every write of the list is
    /// conditioned on the version it was read at, so a sign-in that read the list before a
    /// key was removed cannot write the removed key back.
    pub security_keys_version: i64,
    /// Recovery codes not yet spent (only their hashes are stored).
    pub recovery_codes_left: usize,
    /// Their hashes: a code is judged against them before it is spent.
    pub recovery_hashes: Vec<String>,
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
