//! The vendor platform a tenant connects to: where it is, who the tenant is there, which key
//! signs for it (described, never held here), and what the tenant is entitled to.

use super::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The private key, as described to people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `rsa` or `ec`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub curve: Option<String>,
    pub encrypted: bool,
}

impl KeyInfo {
    /// The JWS algorithm this key signs client assertions with.
    pub fn algorithm(&self) -> &'static str {
        if self.kind == "ec" {
            "ES256"
        } else {
            "RS256"
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateInfo {
    pub subject: String,
    pub thumbprint_sha256: String,
    pub not_after: String,
}

/// The connection as stored in the table: metadata only. The key, its password and the
/// certificate are in Secrets Manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformConfig {
    pub hostname: String,
    pub client_id: String,
    pub kid: String,
    pub token_endpoint: Option<String>,
    pub key: KeyInfo,
    pub certificate: Option<CertificateInfo>,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Module {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solution {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub modules: Vec<Module>,
}

/// What the last successful license check said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlements {
    pub solutions: Vec<Solution>,
    pub checked_at: Timestamp,
}

/// A host name (or IPv4 address) with an optional port, and nothing else: no scheme, path,
/// query or user info.
pub fn parse_hostname(raw: &str) -> Option<String> {
    let h = raw.trim().to_ascii_lowercase();
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (h.as_str(), None),
    };
    // "+1" or "01" would parse; a port is digits only.
    let port_ok = port.is_none_or(|p| {
        p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|n| n > 0)
    });
    (port_ok && super::sso::is_host_name(host)).then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hostname_is_a_host_and_an_optional_port_only() {
        assert_eq!(
            parse_hostname(" Platform.Example.com "),
            Some("platform.example.com".into())
        );
        assert_eq!(
            parse_hostname("127.0.0.1:8443"),
            Some("127.0.0.1:8443".into())
        );
        for bad in [
            "https://platform.example.com",
            "platform.example.com/api",
            "user@platform.example.com",
            "platform.example.com:0",
            "platform.example.com:99999",
            "",
            "a..b",
            "host:",
            "x?y=1",
        ] {
            assert_eq!(parse_hostname(bad), None, "{bad}");
        }
    }
}
