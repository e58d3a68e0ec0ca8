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
    /// A passkey: a discoverable credential, registered with user verification, that signs
    /// its user in on its own (`/api/login/passkey`). Otherwise a second factor only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub discoverable: bool,
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
    /// Wrong second-factor guesses since the last right one (or the last password reset).
    pub failed_in_a_row: u32,
    /// When the owner was last told that someone had their password but not their factor.
    pub alerted_at: Option<i64>,
    /// The confirmed phone number (E.164) codes are texted to.
    pub phone: Option<String>,
    /// A number being added, and the code texted to confirm it.
    pub phone_pending: Option<PendingPhone>,
    /// The code last texted to `phone` for a sign-in or a fresh proof, until used or expired.
    pub sms_code: Option<SentCode>,
}

/// How long a texted code works.
pub const SMS_CODE_SECS: i64 = 5 * 60;

/// A code texted to someone: only its argon2id hash is kept, with when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentCode {
    pub hash: String,
    pub expires_at: i64,
}

impl SentCode {
    pub fn is_live(&self, now: i64) -> bool {
        now < self.expires_at
    }
}

/// A phone number being added (E.164) with the code texted to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPhone {
    pub number: String,
    pub code: SentCode,
}

/// The number as the account page shows it: the country code and the last two digits.
pub fn masked_phone(e164: &str) -> String {
    let digits: Vec<char> = e164.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 6 {
        return "•••".into();
    }
    let tail: String = digits[digits.len() - 2..].iter().collect();
    let hidden = "•".repeat(digits.len().saturating_sub(4));
    format!("+{}{hidden}{tail}", digits[..2].iter().collect::<String>())
}

/// Wrong second-factor guesses in a row after which the owner is emailed (at most once an
/// [`ALERT_EVERY_SECS`]): someone has their password (NIST SP 800-63B §5.2.2).
pub const ALERT_AFTER_FAILURES: u32 = 5;
pub const ALERT_EVERY_SECS: i64 = 3600;
/// Wrong second-factor guesses in a row after which the second factor is refused in browsers
/// without the user's device cookie, until a password reset (NIST SP 800-63B §5.2.2: at most
/// 100 consecutive failures).
pub const BLOCK_AFTER_FAILURES: u32 = 100;

/// What one more wrong second-factor guess leads to, besides being counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AfterFailure {
    /// Tell the owner someone has their password.
    pub alert: bool,
    /// This guess is the one that blocks the factor in unknown browsers.
    pub blocks: bool,
}

impl SecondFactors {
    /// Whether the second factor is refused in browsers without the user's device cookie.
    pub fn blocked(&self) -> bool {
        self.failed_in_a_row >= BLOCK_AFTER_FAILURES
    }

    /// What one more wrong guess at `now` leads to (`at_sign_in`: after a first factor, not a
    /// signed-in person confirming it is them).
    pub fn after_failure(&self, at_sign_in: bool, now: i64) -> AfterFailure {
        let n = self.failed_in_a_row.saturating_add(1);
        let quiet = self
            .alerted_at
            .is_some_and(|at| now - at < ALERT_EVERY_SECS);
        AfterFailure {
            alert: at_sign_in && n >= ALERT_AFTER_FAILURES && !quiet,
            blocks: n == BLOCK_AFTER_FAILURES,
        }
    }
}

impl SecondFactors {
    /// How many kinds of factor are set up (the authenticator app, each key, the phone):
    /// removing one must leave another.
    pub fn count(&self) -> usize {
        usize::from(self.totp.is_some())
            + self.security_keys.0.len()
            + usize::from(self.phone.is_some())
    }
}

/// The secret side of a user item. No `Debug`: it holds the password hash.
pub struct Credentials {
    pub password_hash: Option<SecretString>,
    pub factors: SecondFactors,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(failed: u32, alerted_at: Option<i64>, at_sign_in: bool) -> AfterFailure {
        let f = SecondFactors {
            failed_in_a_row: failed,
            alerted_at,
            ..SecondFactors::default()
        };
        f.after_failure(at_sign_in, 10_000)
    }

    #[test]
    fn the_fifth_wrong_code_in_a_row_alerts_at_most_once_an_hour() {
        assert!(!after(3, None, true).alert);
        assert!(after(4, None, true).alert, "the fifth");
        assert!(after(7, None, true).alert, "still none sent");
        assert!(!after(7, Some(10_000 - 60), true).alert, "one a minute ago");
        assert!(after(7, Some(10_000 - 3600), true).alert, "an hour ago");
        assert!(
            !after(7, None, false).alert,
            "not when confirming a signed-in person"
        );
    }

    #[test]
    fn the_hundredth_wrong_code_in_a_row_blocks_unknown_browsers() {
        assert!(!after(98, None, true).blocks);
        assert!(after(99, None, true).blocks);
        assert!(!after(100, None, true).blocks, "blocked once");
        let f = SecondFactors {
            failed_in_a_row: 100,
            ..SecondFactors::default()
        };
        assert!(f.blocked());
    }
}
