//! One-time tokens (activation, password reset, email PIN links): 256 random bits, handed to
//! the user once, stored only as a SHA-256 digest, checked for expiry in code (DynamoDB TTL
//! deletes lazily, so an item's presence proves nothing).

use super::ids::{TenantId, UserId};
use super::time::{Timestamp, DAY, HOUR};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const TOKEN_BYTES: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Activation,
    Reset,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::Reset => "reset",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "activation" => Some(Self::Activation),
            "reset" => Some(Self::Reset),
            _ => None,
        }
    }

    /// How long a link of this kind works.
    pub fn lifetime_secs(self) -> i64 {
        match self {
            Self::Activation => 2 * DAY,
            Self::Reset => HOUR,
        }
    }

    /// How long the item is kept after it stops working, so that an expired invitation can
    /// still be traded for a fresh one ("send me a new link") instead of reading as unknown.
    pub fn retention_secs(self) -> i64 {
        match self {
            Self::Activation => 30 * DAY,
            Self::Reset => DAY,
        }
    }
}

/// The SHA-256 of a token, hex-encoded: the only form that is ever stored or logged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes what a client presented. Anything that is not shaped like one of our tokens is
    /// `None`, so junk never reaches the database.
    pub fn of_presented(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.len() != TOKEN_BYTES * 2 || !raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Self::digest(&raw.to_ascii_lowercase()))
    }

    pub(crate) fn digest(raw: &str) -> Self {
        Self(hex::encode(Sha256::digest(raw.as_bytes())))
    }

    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// A hash as shown to its owner (a session's id on the account page): 64 lowercase hex.
    pub fn from_hex(s: &str) -> Option<Self> {
        (s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A freshly drawn token: the secret goes into a link, the hash into the table.
pub struct OneTimeToken {
    secret: SecretString,
    pub hash: TokenHash,
    pub kind: TokenKind,
    pub expires_at: Timestamp,
}

/// 256 random bits as 64 hex characters: the shape of every token and session id.
pub(crate) fn random_secret(rng: &mut impl RngCore) -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A one-time token as stored: which link it is, whose, until when, and whether it was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub hash: TokenHash,
    pub kind: TokenKind,
    pub tenant: TenantId,
    pub user: UserId,
    pub expires_at: Timestamp,
    pub used: bool,
}

impl OneTimeToken {
    pub fn generate(kind: TokenKind, now: Timestamp, rng: &mut impl RngCore) -> Self {
        let raw = random_secret(rng);
        let hash = TokenHash::digest(&raw);
        Self {
            secret: SecretString::from(raw),
            hash,
            kind,
            expires_at: now.plus_secs(kind.lifetime_secs()),
        }
    }

    /// The value that goes into the emailed link, and nowhere else.
    pub fn secret(&self) -> &str {
        self.secret.expose_secret()
    }

    /// When DynamoDB may delete the item.
    pub fn delete_after(&self) -> Timestamp {
        self.expires_at.plus_secs(self.kind.retention_secs())
    }
}

/// What a stored token says about itself at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Usable,
    Used,
    /// Past its expiry, or replaced by a newer link for the same purpose.
    Expired,
}

/// The rule, as a pure function: used wins over expired (a used link should point the
/// person to sign-in, not offer them a new one), and a token is dead at its expiry second.
pub fn token_state(
    used: bool,
    superseded: bool,
    expires_at: Timestamp,
    now: Timestamp,
) -> TokenState {
    if used {
        TokenState::Used
    } else if superseded || now >= expires_at {
        TokenState::Expired
    } else {
        TokenState::Usable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    const NOW: Timestamp = Timestamp(1_800_000_000);

    #[test]
    fn a_token_is_256_random_bits_and_only_its_hash_is_kept() {
        let mut rng = StdRng::seed_from_u64(1);
        let t = OneTimeToken::generate(TokenKind::Activation, NOW, &mut rng);
        assert_eq!(t.secret().len(), 64);
        assert_eq!(TokenHash::of_presented(t.secret()), Some(t.hash.clone()));
        assert_ne!(t.hash.as_str(), t.secret());
        let other = OneTimeToken::generate(TokenKind::Activation, NOW, &mut rng);
        assert_ne!(t.secret(), other.secret());
    }

    #[test]
    fn the_hash_is_sha256_of_the_presented_text() {
        let raw = "00".repeat(32);
        assert_eq!(
            TokenHash::of_presented(&raw).unwrap().as_str(),
            // sha256 of 64 ASCII zeros
            "60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55"
        );
    }

    #[test]
    fn anything_not_shaped_like_a_token_is_refused_before_lookup() {
        for junk in ["", "abc", &"g".repeat(64), &"0".repeat(63), &"0".repeat(65)] {
            assert_eq!(TokenHash::of_presented(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn an_invitation_lives_two_days_and_a_reset_link_one_hour() {
        let mut rng = StdRng::seed_from_u64(2);
        let invite = OneTimeToken::generate(TokenKind::Activation, NOW, &mut rng);
        assert_eq!(invite.expires_at, NOW.plus_secs(2 * 24 * 3600));
        assert!(invite.delete_after() > invite.expires_at);
        let reset = OneTimeToken::generate(TokenKind::Reset, NOW, &mut rng);
        assert_eq!(reset.expires_at, NOW.plus_secs(3600));
    }

    #[test]
    fn a_token_expires_at_its_expiry_second_not_after() {
        let exp = NOW.plus_secs(10);
        assert_eq!(
            token_state(false, false, exp, NOW.plus_secs(9)),
            TokenState::Usable
        );
        assert_eq!(
            token_state(false, false, exp, NOW.plus_secs(10)),
            TokenState::Expired
        );
    }

    #[test]
    fn a_used_token_reads_as_used_even_after_expiry() {
        assert_eq!(
            token_state(true, false, NOW, NOW.plus_secs(100)),
            TokenState::Used
        );
    }

    #[test]
    fn a_superseded_token_reads_as_expired() {
        assert_eq!(
            token_state(false, true, NOW.plus_secs(100), NOW),
            TokenState::Expired
        );
    }
}
