//! Envelope for the few secrets that must live in DynamoDB (TOTP seeds): AES-256-GCM with the
//! data key from Secrets Manager (`porter/<stage>/service`), and the owner's id as associated
//! data so that a ciphertext copied onto another user does not decrypt.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub struct DataKey(Aes256Gcm);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the stored secret could not be decrypted")]
pub struct DecryptError;

impl DataKey {
    /// The key is SHA-256 of the stored material, so that any long random string (such as
    /// one CloudFormation generates) serves.
    pub fn from_material(material: &str) -> Self {
        let digest = Sha256::digest(material.as_bytes());
        Self(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&digest)))
    }

    /// `v1.` + base64(nonce ‖ ciphertext ‖ tag).
    pub fn seal(&self, plaintext: &[u8], owner: &str, rng: &mut impl RngCore) -> String {
        let mut nonce = [0u8; 12];
        rng.fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: owner.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("v1.{}", B64.encode(out))
    }

    pub fn open(&self, sealed: &str, owner: &str) -> Result<Vec<u8>, DecryptError> {
        let raw = sealed
            .strip_prefix("v1.")
            .and_then(|b| B64.decode(b).ok())
            .filter(|r| r.len() > 12)
            .ok_or(DecryptError)?;
        let (nonce, body) = raw.split_at(12);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| DecryptError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn sealed_secrets_open_only_for_their_owner_and_key() {
        let key = DataKey::from_material("material");
        let sealed = key.seal(b"seed", "u_1", &mut OsRng);
        assert!(!sealed.contains("seed"));
        assert_eq!(key.open(&sealed, "u_1").unwrap(), b"seed");
        assert_eq!(key.open(&sealed, "u_2"), Err(DecryptError));
        assert_eq!(
            DataKey::from_material("other").open(&sealed, "u_1"),
            Err(DecryptError)
        );
        assert_ne!(
            sealed,
            key.seal(b"seed", "u_1", &mut OsRng),
            "fresh nonce each time"
        );
    }
}
