//! Typed configuration, read from the environment once per cold start.
//! A missing or malformed variable stops the process at start with a message naming it,
//! rather than failing on the first request that needs it.

use crate::domain::address::is_https_or_loopback;
use url::Url;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("missing environment variable {0}")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table holding every item but audit events (`PORTER_TABLE`).
    pub table_name: String,
    /// DynamoDB table of audit events, append-only for the functions (`PORTER_AUDIT_TABLE`,
    /// default `<PORTER_TABLE>-audit`).
    pub audit_table_name: String,
    /// Deployment stage, part of every secret name (`PORTER_STAGE`, default `dev`).
    pub stage: String,
    /// Where browsers reach Porter; links in emails start with it (`PORTER_PUBLIC_BASE_URL`).
    pub public_base_url: Url,
    /// The verified SES sender (`PORTER_MAIL_FROM`).
    pub mail_from: String,
    /// Product name shown in emails and pages (`PORTER_PRODUCT_NAME`, default `Porter`).
    pub product_name: String,
    /// WebAuthn relying-party id (`PORTER_WEBAUTHN_RP_ID`, default: the public host).
    pub webauthn_rp_id: String,
    /// Where Entra ID directories are found (`PORTER_ENTRA_AUTHORITY`, default
    /// `https://login.microsoftonline.com`; tests and `make dev` name a local stand-in).
    pub entra_authority: Url,
    /// Outbound calls (identity providers, the platform) may go to `http://127.0.0.1` and
    /// `http://localhost` (`PORTER_ALLOW_LOOPBACK=true`: `make dev` and the tests only).
    pub allow_loopback: bool,
    /// The DNS servers domain verification asks (`PORTER_DNS_SERVERS`, `ip:port[,ip:port]`);
    /// empty: the system's resolver. `make dev` and the tests name a server on loopback.
    pub dns_servers: Vec<std::net::SocketAddr>,
    /// The SQS queue that "forgot password" and sign-in PIN mails wait in until the `mailer`
    /// function sends them (`PORTER_MAIL_QUEUE_URL`); unset: those functions send the mail
    /// themselves, within their answer's floor (a one-off `cargo lambda invoke`).
    pub mail_queue_url: Option<String>,
    /// The `aud` of access tokens (`PORTER_TOKEN_AUDIENCE`, default `<base>/api`).
    pub token_audience: String,
    /// The KMS key (an alias) that signs access tokens (`PORTER_TOKEN_KEY`, default
    /// `alias/porter-<stage>-tokens`, as template.yaml names it).
    pub token_key: String,
    /// The k-anonymity range API of breached passwords (`PORTER_BREACHED_PASSWORDS_URL`,
    /// default Have I Been Pwned's); the SHA-1 prefix is appended.
    pub breached_passwords_url: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads through `lookup` so that the rules can be tested without touching the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        let optional = |name: &'static str, default: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| default.to_owned())
        };

        let raw_url = required("PORTER_PUBLIC_BASE_URL")?;
        let public_base_url = parse_base_url(&raw_url).map_err(|reason| ConfigError::Invalid {
            name: "PORTER_PUBLIC_BASE_URL",
            reason,
        })?;
        let mail_from = required("PORTER_MAIL_FROM")?;
        if !mail_from.contains('@') {
            return Err(ConfigError::Invalid {
                name: "PORTER_MAIL_FROM",
                reason: "expected an email address".into(),
            });
        }
        let host = public_base_url.host_str().unwrap_or("localhost").to_owned();
        let allow_loopback = optional("PORTER_ALLOW_LOOPBACK", "false") == "true";
        let raw_authority = optional(
            "PORTER_ENTRA_AUTHORITY",
            "https://login.microsoftonline.com",
        );
        let entra_authority = Url::parse(&raw_authority)
            .ok()
            .filter(|u| is_https_or_loopback(u, allow_loopback))
            .ok_or_else(|| ConfigError::Invalid {
                name: "PORTER_ENTRA_AUTHORITY",
                reason: "expected an https URL".into(),
            })?;
        let raw_breached = optional(
            "PORTER_BREACHED_PASSWORDS_URL",
            "https://api.pwnedpasswords.com/range/",
        );
        let breached_passwords_url = Url::parse(&raw_breached)
            .ok()
            .filter(|u| is_https_or_loopback(u, allow_loopback))
            .map(|_| raw_breached.clone())
            .ok_or_else(|| ConfigError::Invalid {
                name: "PORTER_BREACHED_PASSWORDS_URL",
                reason: "expected an https URL".into(),
            })?;
        let dns_servers =
            parse_dns_servers(&optional("PORTER_DNS_SERVERS", "")).map_err(|reason| {
                ConfigError::Invalid {
                    name: "PORTER_DNS_SERVERS",
                    reason,
                }
            })?;
        let stage = optional("PORTER_STAGE", "dev");
        let base = public_base_url.as_str().trim_end_matches('/').to_owned();
        Ok(Self {
            breached_passwords_url,
            token_audience: optional("PORTER_TOKEN_AUDIENCE", &format!("{base}/api")),
            token_key: optional("PORTER_TOKEN_KEY", &format!("alias/porter-{stage}-tokens")),
            mail_queue_url: lookup("PORTER_MAIL_QUEUE_URL")
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
            dns_servers,
            entra_authority,
            allow_loopback,
            webauthn_rp_id: optional("PORTER_WEBAUTHN_RP_ID", &host),
            audit_table_name: optional(
                "PORTER_AUDIT_TABLE",
                &format!("{}-audit", required("PORTER_TABLE")?),
            ),
            table_name: required("PORTER_TABLE")?,
            stage,
            public_base_url,
            mail_from,
            product_name: optional("PORTER_PRODUCT_NAME", "Porter"),
        })
    }

    /// `http://localhost` is the one origin where browsers accept a `Secure`-less
    /// `__Host-` cookie substitute and where WebAuthn works without TLS: dev only.
    /// The environment that reads back as this configuration: what `make dev` writes to
    /// `.porter/local.env` for porterctl and cargo-lambda, from the one list of names above.
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        let url = |u: &Url| u.as_str().trim_end_matches('/').to_owned();
        vec![
            ("PORTER_TABLE", self.table_name.clone()),
            ("PORTER_AUDIT_TABLE", self.audit_table_name.clone()),
            ("PORTER_STAGE", self.stage.clone()),
            ("PORTER_PUBLIC_BASE_URL", url(&self.public_base_url)),
            ("PORTER_MAIL_FROM", self.mail_from.clone()),
            ("PORTER_PRODUCT_NAME", self.product_name.clone()),
            ("PORTER_WEBAUTHN_RP_ID", self.webauthn_rp_id.clone()),
            ("PORTER_ENTRA_AUTHORITY", url(&self.entra_authority)),
            ("PORTER_ALLOW_LOOPBACK", self.allow_loopback.to_string()),
            ("PORTER_DNS_SERVERS", join_addresses(&self.dns_servers)),
            ("PORTER_TOKEN_AUDIENCE", self.token_audience.clone()),
            (
                "PORTER_BREACHED_PASSWORDS_URL",
                self.breached_passwords_url.clone(),
            ),
            ("PORTER_TOKEN_KEY", self.token_key.clone()),
            (
                "PORTER_MAIL_QUEUE_URL",
                self.mail_queue_url.clone().unwrap_or_default(),
            ),
        ]
    }

    pub fn is_local_http(&self) -> bool {
        self.public_base_url.scheme() == "http"
            && matches!(self.public_base_url.host_str(), Some("localhost"))
    }

    /// WebAuthn's relying party id must be the public host or a domain it belongs to; checked
    /// at start, since the verifier itself is built on first use.
    pub fn check_webauthn_rp_id(&self) -> Result<(), ConfigError> {
        let host = self.public_base_url.host_str().unwrap_or_default();
        let rp = self.webauthn_rp_id.as_str();
        if !rp.is_empty() && (host == rp || host.ends_with(&format!(".{rp}"))) {
            return Ok(());
        }
        Err(ConfigError::Invalid {
            name: "PORTER_WEBAUTHN_RP_ID",
            reason: format!("must be {host} or a domain it belongs to"),
        })
    }

    /// The origin browsers send in the `Origin` header, e.g. `https://id.example.com`.
    pub fn public_origin(&self) -> String {
        self.public_base_url.origin().ascii_serialization()
    }

    /// An absolute link under the public base URL.
    pub fn link(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.public_base_url.as_str().trim_end_matches('/'),
            path_and_query
        )
    }
}

fn parse_base_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|e| e.to_string())?;
    // Porter's own address: http only on a developer's machine.
    if !is_https_or_loopback(&url, true) {
        return Err("must be https (http is allowed only for localhost)".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not carry a query or fragment".into());
    }
    Ok(url)
}

/// `ip:port[,ip:port]`, e.g. `127.0.0.1:5353`; empty means none.
fn parse_dns_servers(raw: &str) -> Result<Vec<std::net::SocketAddr>, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| format!("{s:?} is not an ip:port address like 127.0.0.1:53"))
        })
        .collect()
}

fn join_addresses(addresses: &[std::net::SocketAddr]) -> String {
    addresses
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const FULL: &[(&str, &str)] = &[
        ("PORTER_TABLE", "porter"),
        ("PORTER_PUBLIC_BASE_URL", "https://id.example.com/"),
        ("PORTER_MAIL_FROM", "no-reply@example.com"),
    ];

    #[test]
    fn a_configuration_written_to_the_environment_reads_back_the_same() {
        let config = Config::from_lookup(env(FULL)).unwrap();
        let env = config.to_env();
        let again =
            Config::from_lookup(|k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
                .unwrap();
        assert_eq!(format!("{config:?}"), format!("{again:?}"));
        assert!(env.iter().all(|(k, _)| k.starts_with("PORTER_")));
    }

    #[test]
    fn a_complete_environment_gives_defaults_for_the_optional_parts() {
        let config = Config::from_lookup(env(FULL)).unwrap();
        assert_eq!(config.stage, "dev");
        assert_eq!(config.product_name, "Porter");
        assert_eq!(config.public_origin(), "https://id.example.com");
        assert_eq!(
            config.link("/activate?token=x"),
            "https://id.example.com/activate?token=x"
        );
        assert!(!config.is_local_http());
    }

    #[test]
    fn dns_servers_are_ip_and_port_pairs_and_junk_is_named() {
        let mut pairs = FULL.to_vec();
        pairs.push(("PORTER_DNS_SERVERS", "127.0.0.1:5353, [::1]:53"));
        let config = Config::from_lookup(env(&pairs)).unwrap();
        assert_eq!(config.dns_servers.len(), 2);
        assert_eq!(config.dns_servers[0].port(), 5353);
        assert!(Config::from_lookup(env(FULL))
            .unwrap()
            .dns_servers
            .is_empty());
        pairs.pop();
        pairs.push(("PORTER_DNS_SERVERS", "localhost:53"));
        let err = Config::from_lookup(env(&pairs)).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "PORTER_DNS_SERVERS",
                ..
            }
        ));
    }

    #[test]
    fn a_missing_variable_is_named_in_the_error() {
        let partial: Vec<_> = FULL
            .iter()
            .copied()
            .filter(|(k, _)| *k != "PORTER_TABLE")
            .collect();
        let err = Config::from_lookup(env(&partial)).unwrap_err();
        assert_eq!(err, ConfigError::Missing("PORTER_TABLE"));
        assert_eq!(err.to_string(), "missing environment variable PORTER_TABLE");
    }

    #[test]
    fn plain_http_is_refused_except_on_localhost() {
        let mut pairs = FULL.to_vec();
        pairs[1] = ("PORTER_PUBLIC_BASE_URL", "http://id.example.com");
        let err = Config::from_lookup(env(&pairs)).unwrap_err();
        assert!(matches!(
            err,
            ConfigError::Invalid {
                name: "PORTER_PUBLIC_BASE_URL",
                ..
            }
        ));

        pairs[1] = ("PORTER_PUBLIC_BASE_URL", "http://localhost:3000");
        let config = Config::from_lookup(env(&pairs)).unwrap();
        assert!(config.is_local_http());
        assert_eq!(config.link("/login"), "http://localhost:3000/login");
    }
}
