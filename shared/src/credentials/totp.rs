//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, the parameters every authenticator app
//! supports. Pure functions of the secret and the time; the caller keeps the last accepted
//! step so that a code cannot be used twice.

use crate::domain::Timestamp;
use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};

pub const SECRET_BYTES: usize = 20; // 160 bits, as RFC 4226 recommends
pub const DIGITS: usize = 6;
pub const STEP_SECS: u64 = 30;

pub fn generate_secret(rng: &mut impl RngCore) -> Vec<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rng.fill_bytes(&mut secret);
    secret
}

/// The secret as people type it into an app (RFC 4648 base32, no padding).
pub fn base32(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec()).to_encoded().to_string()
}

fn totp(secret: &[u8], digits: usize, issuer: &str, account: &str) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        digits,
        0,
        STEP_SECS,
        secret.to_vec(),
        Some(issuer.to_owned()),
        account.to_owned(),
    )
    .ok()
}

/// `otpauth://totp/Issuer:account?secret=...&issuer=Issuer`, what the QR code carries.
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> Option<String> {
    totp(secret, DIGITS, issuer, account).map(|t| t.get_url())
}

/// The code for `time` (for tests and tools; the server never shows codes).
pub fn code_at(secret: &[u8], digits: usize, time: u64) -> Option<String> {
    totp(secret, digits, "Porter", "x").map(|t| t.generate(time))
}

/// The step counter a code belongs to, accepting one step of clock drift either way.
/// Comparison is constant-time (totp-rs `check`).
pub fn matching_step(secret: &[u8], code: &str, now: Timestamp) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret, DIGITS, "Porter", "x")?;
    let current = u64::try_from(now.0).ok()? / STEP_SECS;
    [current.saturating_sub(1), current, current + 1]
        .into_iter()
        .find(|step| t.check(code, step * STEP_SECS))
}

/// The QR code of `uri` as an SVG document.
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    /// RFC 6238 Appendix B, SHA-1 column.
    #[test]
    fn rfc6238_test_vectors_pass() {
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(code_at(RFC_SECRET, 8, time).unwrap(), expected, "T={time}");
        }
    }

    #[test]
    fn a_code_matches_its_own_step_and_one_step_of_drift() {
        let now = Timestamp(1_800_000_015);
        let step = 1_800_000_015 / 30;
        for (offset, expected) in [(-30i64, step - 1), (0, step), (30, step + 1)] {
            let code = code_at(RFC_SECRET, 6, (now.0 + offset) as u64).unwrap();
            assert_eq!(
                matching_step(RFC_SECRET, &code, now),
                Some(expected),
                "offset {offset}"
            );
        }
        let far = code_at(RFC_SECRET, 6, (now.0 + 90) as u64).unwrap();
        assert_eq!(
            matching_step(RFC_SECRET, &far, now),
            None,
            "two steps away is refused"
        );
    }

    #[test]
    fn malformed_codes_never_match() {
        for code in ["", "12345", "1234567", "abcdef", "12 456"] {
            assert_eq!(
                matching_step(RFC_SECRET, code, Timestamp(59)),
                None,
                "{code:?}"
            );
        }
    }

    #[test]
    fn the_uri_names_issuer_and_account_and_the_qr_is_svg() {
        let uri = otpauth_uri(RFC_SECRET, "Porter", "ann@acme.test").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Porter:ann%40acme.test?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", base32(RFC_SECRET))));
        assert!(uri.contains("issuer=Porter"));
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert!(qr_svg(&uri).unwrap().contains("<svg"));
    }
}
