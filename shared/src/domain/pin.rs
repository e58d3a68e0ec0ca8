//! Sign-in PINs: eight digits emailed to a person, good for ten minutes and one sign-in, dead
//! after five wrong tries. Only an argon2id hash of the PIN is stored; the rules are pure.

use super::ids::{TenantId, UserId};
use super::time::Timestamp;
use rand::Rng;
use secrecy::SecretString;

pub const PIN_DIGITS: usize = 8;
pub const PIN_LIFETIME_SECS: i64 = 10 * 60;
/// Wrong tries a PIN survives; the fifth kills it.
pub const PIN_TRIES: u32 = 5;

/// A fresh PIN: eight uniformly random digits (26.6 bits; with five tries per PIN and the
/// sign-in limits around it, guessing is hopeless).
pub fn generate(rng: &mut impl rand::RngCore) -> SecretString {
    let n: u32 = rng.gen_range(0..100_000_000);
    SecretString::from(format!("{n:0PIN_DIGITS$}"))
}

/// A PIN as typed: digits only (spaces and dashes people type between groups are dropped);
/// `None` when it cannot be a PIN at all.
pub fn typed(raw: &str) -> Option<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    (digits.len() == PIN_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// A stored PIN, as the step reads it with the guess counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinRecord {
    pub tenant: TenantId,
    pub user: UserId,
    /// argon2id PHC string.
    pub hash: String,
    pub expires_at: Timestamp,
    /// Wrong tries counted so far.
    pub tries: u32,
}

impl PinRecord {
    pub fn is_fresh(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }

    /// Whether a guess may still be judged against it: fresh, and tries left.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.is_fresh(now) && self.tries < PIN_TRIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn pins_are_eight_digits_and_typed_forms_are_forgiven() {
        let mut rng = rand::rngs::OsRng;
        for _ in 0..100 {
            let pin = generate(&mut rng);
            assert_eq!(
                typed(pin.expose_secret()).as_deref(),
                Some(pin.expose_secret())
            );
        }
        assert_eq!(typed("1234 5678").as_deref(), Some("12345678"));
        assert_eq!(typed("1234-5678").as_deref(), Some("12345678"));
        assert_eq!(typed("1234567"), None);
        assert_eq!(typed("1234567a"), None);
    }

    #[test]
    fn a_pin_is_fresh_for_ten_minutes() {
        let r = PinRecord {
            tenant: TenantId::nobody(),
            user: UserId::nobody(),
            hash: String::new(),
            expires_at: Timestamp(1000 + PIN_LIFETIME_SECS),
            tries: 0,
        };
        assert!(r.is_fresh(Timestamp(1000)));
        assert!(!r.is_fresh(Timestamp(1000 + PIN_LIFETIME_SECS)));
    }

    #[test]
    fn the_fifth_wrong_try_leaves_a_pin_unusable() {
        let r = PinRecord {
            tenant: TenantId::nobody(),
            user: UserId::nobody(),
            hash: String::new(),
            expires_at: Timestamp(1000 + PIN_LIFETIME_SECS),
            tries: PIN_TRIES - 1,
        };
        assert!(r.is_usable(Timestamp(1000)));
        let used_up = PinRecord {
            tries: PIN_TRIES,
            ..r
        };
        assert!(!used_up.is_usable(Timestamp(1000)));
    }
}
