//! Sign-in PINs: eight digits emailed to a person, good for ten minutes and one sign-in. Wrong
//! tries count per source address (five each) and in all (twenty), so a stranger's guesses
//! cannot kill the PIN its owner just received. Only an argon2id hash of the PIN is stored;
//! the rules are pure.

use super::ids::{TenantId, UserId};
use super::time::Timestamp;
use rand::Rng;
use secrecy::SecretString;

pub const PIN_DIGITS: usize = 8;
pub const PIN_LIFETIME_SECS: i64 = 10 * 60;
/// Wrong tries one source address may make at a PIN; its fifth ends that source's tries.
pub const PIN_TRIES: u32 = 5;
/// Wrong tries from all sources together; the twentieth kills the PIN.
pub const PIN_TRIES_IN_ALL: u32 = 20;

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
    /// Wrong tries counted so far, from every source.
    pub tries: u32,
    /// Wrong tries from the source asking now.
    pub source_tries: u32,
}

impl PinRecord {
    pub fn is_fresh(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }

    /// Whether a guess from this source may still be judged against it: fresh, and tries left
    /// for this source and in all.
    pub fn is_usable(&self, now: Timestamp) -> bool {
        self.is_fresh(now) && self.source_tries < PIN_TRIES && self.tries < PIN_TRIES_IN_ALL
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
            source_tries: 0,
        };
        assert!(r.is_fresh(Timestamp(1000)));
        assert!(!r.is_fresh(Timestamp(1000 + PIN_LIFETIME_SECS)));
    }

    #[test]
    fn five_wrong_tries_end_one_sources_and_twenty_end_the_pin() {
        let r = PinRecord {
            tenant: TenantId::nobody(),
            user: UserId::nobody(),
            hash: String::new(),
            expires_at: Timestamp(1000 + PIN_LIFETIME_SECS),
            tries: PIN_TRIES - 1,
            source_tries: PIN_TRIES - 1,
        };
        assert!(r.is_usable(Timestamp(1000)));
        let this_source = PinRecord {
            tries: PIN_TRIES,
            source_tries: PIN_TRIES,
            ..r.clone()
        };
        assert!(!this_source.is_usable(Timestamp(1000)));
        let another_source = PinRecord {
            tries: PIN_TRIES,
            source_tries: 0,
            ..r.clone()
        };
        assert!(another_source.is_usable(Timestamp(1000)));
        let in_all = PinRecord {
            tries: PIN_TRIES_IN_ALL,
            source_tries: 0,
            ..r
        };
        assert!(!in_all.is_usable(Timestamp(1000)));
    }
}
