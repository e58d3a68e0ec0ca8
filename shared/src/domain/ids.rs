//! Tenant and user ids: random, URL-safe, and parsed (never trusted) when they come from outside.

use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use std::fmt;

const ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// 16 characters of a 32-letter alphabet: 80 bits, enough that ids cannot be guessed.
fn random_id(rng: &mut impl RngCore) -> String {
    (0..16)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

fn is_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| ALPHABET.contains(&b))
}

macro_rules! id_type {
    ($name:ident, $prefix:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate(rng: &mut impl RngCore) -> Self {
                Self(format!("{}{}", $prefix, random_id(rng)))
            }

            /// `None` for anything that is not an id this code could have made.
            pub fn parse(s: &str) -> Option<Self> {
                s.strip_prefix($prefix)
                    .filter(|rest| is_id(rest))
                    .map(|_| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// An id no generator draws in practice (all zeros): what the sign-in of an
            /// unknown address reads, so that it costs what a known address costs.
            pub fn nobody() -> Self {
                Self(format!("{}{}", $prefix, "0".repeat(16)))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(TenantId, "t_");
id_type!(UserId, "u_");
// An app registered with Porter's OpenID provider, and what one code's exchange started.
id_type!(ClientId, "c_");
id_type!(GrantId, "g_");

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn generated_ids_parse_back_and_foreign_strings_do_not() {
        let mut rng = StdRng::seed_from_u64(7);
        let tid = TenantId::generate(&mut rng);
        assert_eq!(TenantId::parse(tid.as_str()), Some(tid.clone()));
        assert_eq!(
            UserId::parse(tid.as_str()),
            None,
            "a tenant id is not a user id"
        );
        assert_eq!(TenantId::parse("t_../../etc"), None);
        assert_eq!(TenantId::parse(""), None);
    }
}
