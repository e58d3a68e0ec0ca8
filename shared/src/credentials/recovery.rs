//! Recovery codes: ten single-use codes of 80 random bits each, shown once at enrolment.
//! At 80 bits a plain SHA-256 is enough to store them (no offline guessing is feasible), which
//! keeps checking them cheap.

use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

pub const COUNT: usize = 10;
const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32: no i, l, o, u

/// Ten fresh codes, formatted `xxxx-xxxx-xxxx-xxxx` for reading aloud and typing.
pub fn generate(rng: &mut impl RngCore) -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let raw: String = (0..16)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..32)]))
                .collect();
            format!(
                "{}-{}-{}-{}",
                &raw[0..4],
                &raw[4..8],
                &raw[8..12],
                &raw[12..16]
            )
        })
        .collect()
}

/// What is stored: the hash of the code as typed, ignoring case, spaces and dashes.
pub fn hash(code: &str) -> Option<String> {
    let normal: String = code
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if normal.len() != 16 || !normal.bytes().all(|b| ALPHABET.contains(&b)) {
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
        assert_eq!(c.len(), 19);
        assert_eq!(hash(c), hash(&c.to_uppercase().replace('-', " ")));
        assert_ne!(hash(c), hash(&codes[1]));
        assert_eq!(hash("not a code"), None);
    }
}
