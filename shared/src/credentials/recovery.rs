//! Recovery codes: ten single-use codes of 120 random bits each (ASVS 5 §6.5.2 asks for at
//! least 112), shown once at enrolment in groups of four for reading. At 120 bits a plain
//! SHA-256 is enough to store them (no offline guessing is feasible), which keeps checking them
//! cheap.

use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

pub const COUNT: usize = 10;
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32: no i, l, o, u

/// Characters per code: 24 of a 32-letter alphabet, 120 bits.
const CHARS: usize = 24;
const LEGACY_CHARS: usize = 16;

/// Ten fresh codes, formatted `xxxx-xxxx-xxxx-xxxx-xxxx-xxxx` for reading aloud and typing.
pub fn generate(rng: &mut impl RngCore) -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let raw: Vec<u8> = (0..CHARS).map(|_| ALPHABET[rng.gen_range(0..32)]).collect();
            raw.chunks(4)
                .map(|g| String::from_utf8_lossy(g).into_owned())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// Ten fresh codes to show once, and the hashes to store: the one place codes are made.
pub fn fresh(rng: &mut impl RngCore) -> (Vec<String>, Vec<String>) {
    let codes = generate(rng);
    let hashes = codes.iter().filter_map(|c| hash(c)).collect();
    (codes, hashes)
}

/// What is stored: the hash of the code as typed, ignoring case, spaces and dashes.
pub fn hash(code: &str) -> Option<String> {
    let normal: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    // Codes issued before they grew to 120 bits had 16 characters; those still work until used.
    if !matches!(normal.len(), CHARS | LEGACY_CHARS)
        || !normal.bytes().all(|b| ALPHABET.contains(&b))
    {
        return None;
    }
    Some(hex::encode(Sha256::digest(
        format!("porter-recovery:{normal}").as_bytes(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn ten_distinct_codes_that_hash_the_same_however_they_are_typed() {
        let codes = generate(&mut StdRng::seed_from_u64(3));
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        let c = &codes[0];
        assert_eq!(c.len(), 29, "six groups of four: {c}");
        assert_eq!(c.split('-').count(), 6);
        assert_eq!(hash(c), hash(&c.to_uppercase().replace('-', " ")));
        assert_ne!(hash(c), hash(&codes[1]));
        assert_eq!(hash("not a code"), None);
    }
}
