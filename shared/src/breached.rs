//! No breached passwords (ASVS 5.0 6.2.12): a new password is looked up in a k-anonymity range
//! API compatible with Have I Been Pwned's (`PORTER_BREACHED_PASSWORDS_URL`). Only the first
//! five hex digits of the password's SHA-1 leave Porter; the answer lists the suffixes of
//! every breached password under that prefix (padded with decoys, `Add-Padding: true`), and
//! the match is made here. An unreachable service does not hold the person up: after 1.5 s
//! the password is accepted, a warning logged and counted (a metric filter on its `event`).

use crate::domain::{Password, PasswordError};
use crate::Config;
use sha1::{Digest, Sha1};
use std::time::Duration;

/// How long the lookup may take before the password is accepted unchecked.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_millis(1500);

/// What the lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password is in the breach corpus.
    Breached,
    /// Looked up, not found.
    Clear,
    /// The service could not say (unreachable, slow, an answer not shaped like a range).
    Unchecked,
}

/// The SHA-1 of `password`, as the range API spells it: 40 upper-case hex digits, split into
/// the 5 that are sent and the 35 that are matched here.
pub fn range_key(password: &str) -> (String, String) {
    let digest = hex::encode_upper(Sha1::digest(password.as_bytes()));
    let (prefix, suffix) = digest.split_at(5);
    (prefix.to_owned(), suffix.to_owned())
}

/// Whether a range answer (`SUFFIX:COUNT` per line) lists `suffix` with a count above zero
/// (padding lines have a count of 0); `None` for an answer that is not a range at all.
pub fn listed(answer: &str, suffix: &str) -> Option<bool> {
    let mut found = false;
    for line in answer.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (s, count) = line.split_once(':')?;
        let count: u64 = count.trim().parse().ok()?;
        if s.len() != 35 {
            return None;
        }
        if count > 0 && s.eq_ignore_ascii_case(suffix) {
            found = true;
        }
    }
    Some(found)
}

/// A new password as the flows that set one take it: refused when it is breached.
pub async fn refuse_breached(config: &Config, password: &Password) -> Result<(), PasswordError> {
    match check(config, password).await {
        Verdict::Breached => Err(PasswordError::Breached),
        Verdict::Clear | Verdict::Unchecked => Ok(()),
    }
}

/// Looks `password` up; never fails the caller (see [`Verdict::Unchecked`]).
pub async fn check(config: &Config, password: &Password) -> Verdict {
    let (prefix, suffix) = range_key(password.expose());
    let url = format!("{}{prefix}", config.breached_passwords_url);
    let lookup = async {
        let target = crate::outbound::check(&url, config.allow_loopback).await?;
        crate::outbound::get_with(&target, &[("Add-Padding", "true")]).await
    };
    let why = match tokio::time::timeout(LOOKUP_TIMEOUT, lookup).await {
        Ok(Ok(answer)) if answer.status == 200 => {
            match listed(&String::from_utf8_lossy(&answer.body), &suffix) {
                Some(true) => return Verdict::Breached,
                Some(false) => return Verdict::Clear,
                None => "the answer is not a range".to_owned(),
            }
        }
        Ok(Ok(answer)) => format!("status {}", answer.status),
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {} ms", LOOKUP_TIMEOUT.as_millis()),
    };
    tracing::warn!(
        event = "breached_check_unavailable",
        reason = %why,
        "the breached-password service did not answer; the password was accepted unchecked"
    );
    Verdict::Unchecked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_five_hex_digits_of_the_sha1_are_sent() {
        // SHA-1("password") = 5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8
        let (prefix, suffix) = range_key("password"); // pragma: allowlist secret
        assert_eq!(prefix, "5BAA6");
        assert_eq!(suffix, "1E4C9B93F3F0682250B6CF8331B7EE68FD8"); // pragma: allowlist secret
    }

    #[test]
    fn a_suffix_counts_only_with_a_count_above_zero() {
        let listed_suffix = "1E4C9B93F3F0682250B6CF8331B7EE68FD8"; // pragma: allowlist secret
        let decoy = "0018A45C4D1DEF81644B54AB7F969B88D65"; // pragma: allowlist secret
        let answer = format!("{listed_suffix}:10434004\r\n{decoy}:0\r\n");
        assert_eq!(listed(&answer, listed_suffix), Some(true));
        assert_eq!(listed(&answer, decoy), Some(false));
        assert_eq!(listed(&answer, &"F".repeat(35)), Some(false));
        assert_eq!(listed("<html>not a range</html>", "1E4C9"), None);
        assert_eq!(listed("", listed_suffix), Some(false));
    }
}
