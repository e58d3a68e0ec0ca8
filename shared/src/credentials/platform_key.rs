//! The key a tenant signs platform client assertions with (RFC 7523), checked before it is
//! stored: PEM as PKCS#8 (encrypted or not), PKCS#1 or SEC1; RSA of 2048 bits or more, or EC
//! P-256; an optional X.509 certificate that must carry the same public key and not have
//! expired. Pure: the time is passed in.

use crate::domain::platform::{CertificateInfo, KeyInfo};
use crate::domain::Timestamp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::X509;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("the password does not open this private key")]
    PasswordWrong,
    #[error("this private key is not encrypted: leave the password empty")]
    PasswordNotNeeded,
    /// Which field, and why, in words.
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error("the certificate is not for this private key")]
    CertificateMismatch,
    #[error("the certificate expired on {0}")]
    CertificateExpired(String),
}

fn invalid(field: &'static str, why: impl Into<String>) -> KeyError {
    KeyError::Invalid {
        field,
        why: why.into(),
    }
}

/// A private key that opened, and what it is.
pub struct SigningKey {
    key: PKey<Private>,
    pub info: KeyInfo,
}

fn is_encrypted(pem: &str) -> bool {
    pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") || pem.contains("Proc-Type: 4,ENCRYPTED")
}

/// Opens `pem` (with `password` when it is encrypted) and checks the kind of key.
pub fn open_key(pem: &str, password: Option<&SecretString>) -> Result<SigningKey, KeyError> {
    let pem = pem.trim();
    if !pem.starts_with("-----BEGIN ") || !pem.contains("PRIVATE KEY-----") {
        return Err(invalid(
            "private_key_pem",
            "expected a PEM private key (-----BEGIN PRIVATE KEY-----)",
        ));
    }
    let encrypted = is_encrypted(pem);
    let password = password
        .map(|p| p.expose_secret())
        .filter(|p| !p.is_empty());
    let key = match (encrypted, password) {
        (true, Some(pw)) => PKey::private_key_from_pem_passphrase(pem.as_bytes(), pw.as_bytes())
            .map_err(|_| KeyError::PasswordWrong)?,
        (true, None) => {
            return Err(invalid(
                "private_key_password",
                "this private key is encrypted: give its password",
            ))
        }
        (false, password) => {
            let key = PKey::private_key_from_pem(pem.as_bytes()).map_err(|_| {
                invalid(
                    "private_key_pem",
                    "the PEM could not be read as a private key",
                )
            })?;
            if password.is_some() {
                return Err(KeyError::PasswordNotNeeded);
            }
            key
        }
    };
    let info = match key.id() {
        Id::RSA => {
            let bits = key.bits();
            if bits < 2048 {
                return Err(invalid(
                    "private_key_pem",
                    format!("an RSA key of {bits} bits is too short; use 2048 bits or more"),
                ));
            }
            KeyInfo {
                kind: "rsa".into(),
                bits: Some(bits),
                curve: None,
                encrypted,
            }
        }
        Id::EC => {
            let ec = key
                .ec_key()
                .map_err(|_| invalid("private_key_pem", "unreadable EC key"))?;
            if ec.group().curve_name() != Some(Nid::X9_62_PRIME256V1) {
                return Err(invalid(
                    "private_key_pem",
                    "only the EC curve P-256 is supported",
                ));
            }
            KeyInfo {
                kind: "ec".into(),
                bits: None,
                curve: Some("P-256".into()),
                encrypted,
            }
        }
        _ => return Err(invalid("private_key_pem", "use an RSA or EC P-256 key")),
    };
    Ok(SigningKey { key, info })
}

fn unix_of(t: &openssl::asn1::Asn1TimeRef) -> Option<i64> {
    let epoch = Asn1Time::from_unix(0).ok()?;
    let d = epoch.diff(t).ok()?;
    Some(i64::from(d.days) * 86_400 + i64::from(d.secs))
}

/// Checks a certificate against the key and the clock; what to show of it.
pub fn check_certificate(
    pem: &str,
    key: &SigningKey,
    now: Timestamp,
) -> Result<CertificateInfo, KeyError> {
    let cert = X509::from_pem(pem.trim().as_bytes()).map_err(|_| {
        invalid(
            "certificate_pem",
            "the PEM could not be read as an X.509 certificate",
        )
    })?;
    let public = cert.public_key().map_err(|_| {
        invalid(
            "certificate_pem",
            "the certificate has no readable public key",
        )
    })?;
    if !public.public_eq(&key.key) {
        return Err(KeyError::CertificateMismatch);
    }
    let not_after = unix_of(cert.not_after()).ok_or_else(|| {
        invalid(
            "certificate_pem",
            "the certificate's end date is not readable",
        )
    })?;
    let not_after_text = Timestamp(not_after).to_rfc3339();
    if not_after <= now.0 {
        return Err(KeyError::CertificateExpired(not_after_text));
    }
    let subject = cert
        .subject_name()
        .entries()
        .filter_map(|e| {
            let name = e.object().nid().short_name().ok()?;
            let value = String::from_utf8_lossy(e.data().as_slice()).into_owned();
            Some(format!("{name}={value}"))
        })
        .collect::<Vec<_>>()
        .join(", ");
    let thumbprint = cert
        .digest(MessageDigest::sha256())
        .map(hex::encode)
        .map_err(|_| invalid("certificate_pem", "the certificate could not be hashed"))?;
    Ok(CertificateInfo {
        subject,
        thumbprint_sha256: thumbprint,
        not_after: not_after_text,
    })
}

#[derive(Serialize)]
struct AssertionClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    jti: &'a str,
    iat: i64,
    nbf: i64,
    exp: i64,
}

/// Lifetime of a client assertion.
pub const ASSERTION_SECS: i64 = 300;

/// An RFC 7523 client assertion: `iss = sub = client_id`, `aud` the token endpoint, a fresh
/// `jti`, `iat`/`nbf` now and `exp` five minutes on; header `alg` (RS256 or ES256), `kid`,
/// `typ: JWT`.
pub fn client_assertion(
    key: &SigningKey,
    kid: &str,
    client_id: &str,
    token_endpoint: &str,
    jti: &str,
    now: Timestamp,
) -> Result<String, KeyError> {
    // In memory only, and wiped on drop (`SecretString`).
    let pkcs8 = key
        .key
        .private_key_to_pem_pkcs8()
        .ok()
        .and_then(|pem| String::from_utf8(pem).ok())
        .map(SecretString::from)
        .ok_or_else(|| {
            invalid(
                "private_key_pem",
                "the key could not be prepared for signing",
            )
        })?;
    let pem = pkcs8.expose_secret().as_bytes();
    let (alg, encoding) = if key.info.kind == "ec" {
        (Algorithm::ES256, EncodingKey::from_ec_pem(pem))
    } else {
        (Algorithm::RS256, EncodingKey::from_rsa_pem(pem))
    };
    let encoding = encoding.map_err(|_| invalid("private_key_pem", "the key cannot sign"))?;
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    header.typ = Some("JWT".into());
    let claims = AssertionClaims {
        iss: client_id,
        sub: client_id,
        aud: token_endpoint,
        jti,
        iat: now.0,
        nbf: now.0,
        exp: now.0 + ASSERTION_SECS,
    };
    jsonwebtoken::encode(&header, &claims, &encoding)
        .map_err(|_| invalid("private_key_pem", "the key could not sign"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::rsa::Rsa;
    use openssl::symm::Cipher;

    fn rsa(bits: u32) -> PKey<Private> {
        PKey::from_rsa(Rsa::generate(bits).unwrap()).unwrap()
    }

    #[test]
    fn keys_open_with_the_right_password_only_and_weak_keys_are_refused() {
        let key = rsa(2048);
        let pw = SecretString::from("correct horse".to_owned());
        let enc = String::from_utf8(
            key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), b"correct horse")
                .unwrap(),
        )
        .unwrap();
        let opened = open_key(&enc, Some(&pw)).unwrap();
        assert_eq!(
            opened.info,
            KeyInfo {
                kind: "rsa".into(),
                bits: Some(2048),
                curve: None,
                encrypted: true
            }
        );
        let wrong = SecretString::from("wrong".to_owned());
        assert_eq!(
            open_key(&enc, Some(&wrong)).err(),
            Some(KeyError::PasswordWrong)
        );
        let plain = String::from_utf8(key.rsa().unwrap().private_key_to_pem().unwrap()).unwrap();
        assert!(plain.contains("BEGIN RSA PRIVATE KEY"), "PKCS#1");
        assert_eq!(
            open_key(&plain, Some(&pw)).err(),
            Some(KeyError::PasswordNotNeeded)
        );
        assert!(open_key(&plain, None).is_ok());
        let short = String::from_utf8(rsa(1024).private_key_to_pem_pkcs8().unwrap()).unwrap();
        assert!(matches!(
            open_key(&short, None),
            Err(KeyError::Invalid {
                field: "private_key_pem",
                ..
            })
        ));
        assert!(matches!(
            open_key("not a key", None),
            Err(KeyError::Invalid {
                field: "private_key_pem",
                ..
            })
        ));
    }

    #[test]
    fn an_ec_p256_key_signs_an_es256_assertion() {
        let group = openssl::ec::EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let ec = openssl::ec::EcKey::generate(&group).unwrap();
        let sec1 = String::from_utf8(ec.private_key_to_pem().unwrap()).unwrap();
        let key = open_key(&sec1, None).unwrap();
        assert_eq!(key.info.algorithm(), "ES256");
        let jwt = client_assertion(
            &key,
            "k1",
            "tenant-client",
            "https://p.example/token",
            "j1",
            Timestamp(1_800_000_000),
        )
        .unwrap();
        let header = jsonwebtoken::decode_header(&jwt).unwrap();
        assert_eq!(
            (header.alg, header.kid.as_deref(), header.typ.as_deref()),
            (Algorithm::ES256, Some("k1"), Some("JWT"))
        );
    }
}
