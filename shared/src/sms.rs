//! Codes by text message, through Amazon SNS (`Publish` to a phone number; moto records them,
//! and `make dev`'s outbox shows them). A restricted authenticator in NIST SP 800-63B: an
//! organisation opts in, and every person who uses it can also add any other factor.
//!
//! The numbers are E.164, checked with the `phonenumber` crate (its metadata knows which
//! numbers exist in each country). A code is six digits, works for five minutes and once, and
//! only its argon2id hash is kept. At most three messages go to one number in fifteen minutes
//! (whoever asks), so that nobody can use Porter to flood a phone.

use crate::credentials::password;
use crate::domain::factors::{SentCode, SMS_CODE_SECS};
use crate::domain::Timestamp;
use crate::http::ApiError;
use aws_sdk_sns::types::MessageAttributeValue;
use http::StatusCode;
use rand::Rng;
use secrecy::SecretString;

/// The SNS client, built on first use.
#[derive(Clone)]
pub struct Texter {
    client: aws_sdk_sns::Client,
}

impl Texter {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        Self { client }
    }

    /// Sends `text` to `number` (E.164) as a transactional message.
    async fn send(&self, number: &str, text: &str) -> Result<(), String> {
        let kind = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| e.to_string())?;
        self.client
            .publish()
            .phone_number(number)
            .message(text)
            .message_attributes("AWS.SNS.SMS.SMSType", kind)
            .send()
            .await
            .map_err(|e| aws_sdk_sns::error::DisplayErrorContext(e).to_string())?;
        Ok(())
    }
}

/// A number as typed, in E.164 (`+447700900123`), when it is a valid number of its country;
/// it must start with `+` and the country code (nobody's country is assumed).
pub fn parse_number(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    if !trimmed.starts_with('+') || trimmed.len() > 32 {
        return None;
    }
    let number = phonenumber::parse(None, trimmed).ok()?;
    phonenumber::is_valid(&number)
        .then(|| number.format().mode(phonenumber::Mode::E164).to_string())
}

/// 422 `invalid_phone`.
pub fn invalid_number() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_phone",
        "Enter a mobile number in international format, starting with + and the country code (for example +44 7911 123456).",
    )
}

/// Six random digits.
fn new_code(rng: &mut impl Rng) -> String {
    format!("{:06}", rng.gen_range(0..1_000_000u32))
}

/// The message: the code, what it is for, and the origin-bound line (`@<rp id> #<code>`)
/// that lets a phone's browser fill it in on Porter's page only.
fn text(product: &str, code: &str, rp_id: &str) -> String {
    format!(
        "Your {product} code is {code}. It works once, for 5 minutes. Nobody from {product} will ask you for it.\n\n@{rp_id} #{code}"
    )
}

/// A fresh code, hashed, and returned with its text (naming `product`, bound to `rp_id`), to
/// be sent once its hash is stored ([`send`]). The caller has counted the message against
/// the number's limit (`auth::guard::sms_limited`).
pub async fn prepare(
    product: &str,
    rp_id: &str,
    now: Timestamp,
) -> Result<(SentCode, String), ApiError> {
    let code = new_code(&mut rand::rngs::OsRng);
    let hash = password::hash_code(&SecretString::from(code.clone()))
        .await
        .map_err(|e| ApiError::internal("hashing a texted code", &e))?;
    let sent = SentCode {
        hash,
        expires_at: now.0 + SMS_CODE_SECS,
    };
    let message = text(product, &code, rp_id);
    Ok((sent, message))
}

/// Sends a prepared message; 503 `sms_unavailable` when SNS does not take it (the code is
/// stored, and asking again sends a new one).
pub async fn send(texter: &Texter, number: &str, message: &str) -> Result<(), ApiError> {
    texter.send(number, message).await.map_err(|e| {
        tracing::error!(error = %e, "text message not sent");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "sms_unavailable",
            "We could not send the text message just now. Try again in a few minutes, or use another way to sign in.",
        )
    })
}

/// Whether `code` (as typed: spaces allowed) is the live code `sent`.
pub async fn matches(code: &str, sent: Option<&SentCode>, now: Timestamp) -> bool {
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let live = sent.filter(|s| s.is_live(now.0));
    let well_formed = typed.len() == 6 && typed.chars().all(|c| c.is_ascii_digit());
    // Without a live code, the same work against the dummy hash.
    let stored = live
        .filter(|_| well_formed)
        .map(|s| SecretString::from(s.hash.clone()));
    password::verify(SecretString::from(typed), stored.as_ref()).await && live.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_kept_in_e164_and_only_valid_ones_with_their_country_code() {
        assert_eq!(
            parse_number(" +44 7911 123456 ").as_deref(),
            Some("+447911123456")
        );
        assert_eq!(
            parse_number("+1 (415) 555-2671").as_deref(),
            Some("+14155552671")
        );
        assert_eq!(parse_number("07700 900123"), None, "no country code");
        assert_eq!(parse_number("+44 12"), None, "too short");
        assert_eq!(parse_number("+999 1234567"), None, "no such country");
        assert_eq!(parse_number("call me"), None);
    }

    #[test]
    fn a_code_is_six_digits_and_the_message_binds_it_to_porters_origin() {
        let mut rng = rand::rngs::mock::StepRng::new(7, 1);
        let code = new_code(&mut rng);
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        let t = text("Porter", "012345", "localhost");
        assert!(t.starts_with("Your Porter code is 012345."));
        assert!(t.ends_with("@localhost #012345"));
    }
}
