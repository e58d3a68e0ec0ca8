//! Email addresses, parsed once at the edge. Stored and compared lowercased: the email index
//! makes addresses unique across tenants, and `Ann@Acme.test` is the same person as
//! `ann@acme.test` for every mail system a customer will use.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("\"{0}\" is not a valid email address")]
pub struct InvalidEmail(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let s = raw.trim().to_lowercase();
        let invalid = || InvalidEmail(raw.chars().take(80).collect());
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = s.split_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.contains('@')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '\\', '"']);
        if domain_ok && local_ok {
            Ok(Self(s))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lowercased() {
        let e = Email::parse("  Ann@Acme.Test ").unwrap();
        assert_eq!(e.as_str(), "ann@acme.test");
        assert_eq!(e.local_part(), "ann");
        assert_eq!(e.domain(), "acme.test");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "ann",
            "ann@",
            "@acme.test",
            "ann@acme",
            "a b@acme.test",
            "ann@@acme.test",
            "ann@-acme.test",
            "<ann>@acme.test",
            "ann@acme..test",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
