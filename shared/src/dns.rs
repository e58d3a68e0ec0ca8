//! TXT lookups, for domain verification: the servers in `PORTER_DNS_SERVERS`, or the
//! system's resolver. Nothing is cached: an admin who has just published a record and asks
//! again must not meet the answer from before.

use crate::config::Config;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::TokioResolver;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DnsError {
    /// The name does not exist, or holds no TXT record.
    #[error("no TXT record at {0}")]
    NoRecord(String),
    /// The lookup itself failed (no answer in time, a server error).
    #[error("the DNS lookup of {name} failed: {reason}")]
    Failed { name: String, reason: String },
}

/// The resolver, built once per instance.
pub fn resolver(config: &Config) -> Result<TokioResolver, String> {
    let mut builder = if config.dns_servers.is_empty() {
        TokioResolver::builder_tokio().map_err(|e| e.to_string())?
    } else {
        let servers = config
            .dns_servers
            .iter()
            .map(|addr| {
                let on_port = |mut c: ConnectionConfig| {
                    c.port = addr.port();
                    c
                };
                let connections = vec![
                    on_port(ConnectionConfig::udp()),
                    on_port(ConnectionConfig::tcp()),
                ];
                NameServerConfig::new(addr.ip(), true, connections)
            })
            .collect();
        TokioResolver::builder_with_config(
            ResolverConfig::from_name_servers(servers),
            TokioRuntimeProvider::default(),
        )
    };
    let options = builder.options_mut();
    options.cache_size = 0;
    // Bounded well inside a function's timeout, retries included.
    options.timeout = Duration::from_secs(2);
    options.attempts = 2;
    options.ndots = 0;
    builder.build().map_err(|e| e.to_string())
}

/// The TXT records at `name` (a fully qualified name), each record's strings joined as one
/// value (RFC 7208 §3.3 does the same for long SPF records).
pub async fn txt(resolver: &TokioResolver, name: &str) -> Result<Vec<String>, DnsError> {
    let failed = |reason: String| DnsError::Failed {
        name: name.to_owned(),
        reason,
    };
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    match resolver.txt_lookup(fqdn.as_str()).await {
        Ok(lookup) => {
            let values: Vec<String> = lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    hickory_resolver::proto::rr::RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part).into_owned())
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect();
            if values.is_empty() {
                Err(DnsError::NoRecord(name.to_owned()))
            } else {
                Ok(values)
            }
        }
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => {
            Err(DnsError::NoRecord(name.to_owned()))
        }
        Err(e) => Err(failed(e.to_string())),
    }
}
