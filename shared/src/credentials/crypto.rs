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

/// An ECDSA P-256 signature as KMS gives it (DER) in the JOSE form (`r || s`, 32 bytes each,
/// RFC 7518 §3.4); `None` for anything else.
pub fn ecdsa_der_to_jose(der: &[u8]) -> Option<[u8; 64]> {
    let sig = p256::ecdsa::Signature::from_der(der).ok()?;
    sig.to_bytes().as_slice().try_into().ok()
}

/// The affine coordinates (x, y; 32 bytes each) of a P-256 public key given as a DER
/// SubjectPublicKeyInfo (what KMS's GetPublicKey answers); `None` for any other key.
pub fn p256_coordinates(spki_der: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    use p256::pkcs8::DecodePublicKey;
    let key = p256::PublicKey::from_public_key_der(spki_der).ok()?;
    // Uncompressed SEC1: 0x04 ‖ x ‖ y.
    let point = key.to_sec1_bytes();
    (point.len() == 65 && point[0] == 4).then(|| (point[1..33].to_vec(), point[33..].to_vec()))
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

    #[test]
    fn a_der_signature_becomes_r_and_s_that_verify_against_the_coordinates() {
        use openssl::ec::{EcGroup, EcKey};
        use openssl::nid::Nid;
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let key = EcKey::generate(&group).unwrap();
        let digest = Sha256::digest(b"header.claims");
        let der = openssl::ecdsa::EcdsaSig::sign(&digest, &key)
            .unwrap()
            .to_der()
            .unwrap();
        let jose = ecdsa_der_to_jose(&der).unwrap();
        let spki = openssl::pkey::PKey::from_ec_key(key.clone())
            .unwrap()
            .public_key_to_der()
            .unwrap();
        let (x, y) = p256_coordinates(&spki).unwrap();
        let mut ctx = openssl::bn::BigNumContext::new().unwrap();
        let point =
            openssl::ec::EcPoint::from_bytes(&group, &[&[4u8][..], &x, &y].concat(), &mut ctx)
                .unwrap();
        let public = EcKey::from_public_key(&group, &point).unwrap();
        let r = openssl::bn::BigNum::from_slice(&jose[..32]).unwrap();
        let s = openssl::bn::BigNum::from_slice(&jose[32..]).unwrap();
        let sig = openssl::ecdsa::EcdsaSig::from_private_components(r, s).unwrap();
        assert!(sig.verify(&digest, &public).unwrap());
        assert!(ecdsa_der_to_jose(b"junk").is_none());
        assert!(p256_coordinates(b"junk").is_none());
        let p384 = EcKey::generate(&EcGroup::from_curve_name(Nid::SECP384R1).unwrap()).unwrap();
        let p384 = openssl::pkey::PKey::from_ec_key(p384).unwrap();
        assert!(p256_coordinates(&p384.public_key_to_der().unwrap()).is_none());
    }
}
