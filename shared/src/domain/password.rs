//! The password policy (NIST SP 800-63B, OWASP ASVS 5 §6.2): length counts, composition rules
//! do not, and passwords an attacker would try first are refused.

use secrecy::{ExposeSecret, SecretString};

pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;
/// zxcvbn scores 0..=4; 3 means "safely unguessable: moderate protection from offline attacks".
const MIN_SCORE: u8 = 3;

/// A password that passed the policy. Holding one is the proof; it can only be read through
/// `expose`, and its `Debug` prints nothing secret.
#[derive(Debug)]
pub struct Password(SecretString);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("The two passwords do not match.")]
    Mismatch,
    #[error("Use at least {MIN_CHARS} characters.")]
    TooShort,
    #[error("Use at most {MAX_CHARS} characters.")]
    TooLong,
    #[error("This password is too easy to guess. {0}")]
    Guessable(String),
    /// Found by the breached-password lookup (`crate::breached`), after the rules above.
    #[error("This password has appeared in a data breach; choose another.")]
    Breached,
}

impl PasswordError {
    /// The stable API code of each failure.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Mismatch => "password_mismatch",
            Self::Breached => "password_breached",
            _ => "password_weak",
        }
    }
}

impl Password {
    /// `context` holds words an attacker would know about this user (email, product name):
    /// a password built from them is refused too.
    /// Both are NFKC-normalised first: a password typed on a keyboard that composes
    /// characters differently (é as one code point or as e + ◌́) is the same password.
    pub fn new(raw: &str, confirm: &str, context: &[&str]) -> Result<Self, PasswordError> {
        let (raw, confirm) = (normalise(raw), normalise(confirm));
        if raw != confirm {
            return Err(PasswordError::Mismatch);
        }
        Self::check(&raw, context)?;
        Ok(Self(SecretString::from(raw)))
    }

    fn check(raw: &str, context: &[&str]) -> Result<(), PasswordError> {
        let chars = raw.chars().count();
        if chars < MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        let entropy = zxcvbn::zxcvbn(raw, context);
        if u8::from(entropy.score()) < MIN_SCORE {
            let advice = entropy
                .feedback()
                .and_then(|f| {
                    f.warning()
                        .map(|w| w.to_string())
                        .or_else(|| f.suggestions().first().map(|s| s.to_string()))
                })
                .unwrap_or_else(|| "Try a longer phrase of unrelated words.".to_owned());
            return Err(PasswordError::Guessable(advice));
        }
        Ok(())
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The form a password is hashed and checked in (NFKC, as NIST SP 800-63B §5.1.1.2 advises).
pub fn normalise(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    raw.nfkc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composed_and_decomposed_forms_are_the_same_password() {
        let composed = "caf\u{e9} lantern harbour 71";
        let decomposed = "cafe\u{301} lantern harbour 71";
        let p = Password::new(composed, decomposed, &[]).unwrap();
        assert_eq!(p.expose(), composed);
        assert_eq!(normalise(decomposed), composed);
    }

    fn new(p: &str) -> Result<Password, PasswordError> {
        Password::new(p, p, &["ann@acme.test", "Porter"])
    }

    #[test]
    fn a_long_unusual_passphrase_is_accepted() {
        assert!(new("tangerine orbit kettle 94").is_ok());
        assert!(
            new("Zx8#qLm2!vRt").is_ok(),
            "12 random characters are enough"
        );
    }

    #[test]
    fn short_passwords_are_refused_whatever_their_characters() {
        assert_eq!(new("Zx8#qLm2!vR").unwrap_err(), PasswordError::TooShort);
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 12 characters, 24+ bytes: accepted on length, judged on guessability.
        let pw = "ŝćžđłęąóńüöä";
        assert_ne!(
            Password::new(pw, pw, &[]).err(),
            Some(PasswordError::TooShort)
        );
    }

    #[test]
    fn very_long_passwords_are_refused_before_any_hashing() {
        let long = "a".repeat(MAX_CHARS + 1);
        assert_eq!(new(&long).unwrap_err(), PasswordError::TooLong);
        let max: String = (0..MAX_CHARS)
            .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
            .collect();
        assert_ne!(new(&max).err(), Some(PasswordError::TooLong));
    }

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for weak in [
            "password1234",
            "123456789012",
            "qwertyuiopas",
            "aaaaaaaaaaaa",
            "iloveyou2024!",
        ] {
            assert!(
                matches!(new(weak), Err(PasswordError::Guessable(_))),
                "{weak} should be refused"
            );
        }
    }

    #[test]
    fn a_password_built_from_the_users_own_email_is_refused() {
        assert!(matches!(
            Password::new("ann@acme.test1", "ann@acme.test1", &["ann@acme.test"]),
            Err(PasswordError::Guessable(_))
        ));
    }

    #[test]
    fn the_re_entry_must_match() {
        let err = Password::new(
            "tangerine orbit kettle 94",
            "tangerine orbit kettle 95",
            &[],
        )
        .unwrap_err();
        assert_eq!(err, PasswordError::Mismatch);
        assert_eq!(err.code(), "password_mismatch");
    }

    #[test]
    fn debug_output_never_shows_the_password() {
        let p = new("tangerine orbit kettle 94").unwrap();
        assert!(!format!("{p:?}").contains("tangerine"));
    }
}
