//! A DNS server on loopback for `make dev` and the tests: it answers TXT queries from records
//! a developer publishes (`porterctl dev dns set`, `POST /_dev/dns`), so that domain
//! verification runs the real resolver against a real server. UDP only; every other query
//! gets an empty answer, a name without records NXDOMAIN. Messages are parsed and written
//! with `hickory-proto`. The server stops when its handle is dropped.

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use tokio::net::UdpSocket;

/// TXT records by lower-case name (no trailing dot).
pub type Records = Arc<RwLock<BTreeMap<String, Vec<String>>>>;

pub struct DevDns {
    pub addr: SocketAddr,
    records: Records,
    task: tokio::task::JoinHandle<()>,
}

/// A name as the records keep it.
pub fn normalise(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

impl DevDns {
    /// Binds 127.0.0.1:`port` (0: any free port) and answers until dropped.
    pub async fn start(port: u16) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(("127.0.0.1", port)).await?;
        let addr = socket.local_addr()?;
        let records = Records::default();
        let served = records.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, peer)) = socket.recv_from(&mut buf).await else {
                    break;
                };
                if let Some(answer) = respond(&buf[..n], &served) {
                    let _ = socket.send_to(&answer, peer).await;
                }
            }
        });
        Ok(Self {
            addr,
            records,
            task,
        })
    }

    /// Publishes `values` as the TXT records at `name` (none: removes the name).
    pub fn set_txt(&self, name: &str, values: Vec<String>) {
        set(&self.records, name, values);
    }

    pub fn records(&self) -> Records {
        self.records.clone()
    }
}

impl Drop for DevDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Publishes (or, with no values, removes) the TXT records at `name`.
pub fn set(records: &Records, name: &str, values: Vec<String>) {
    if let Ok(mut r) = records.write() {
        if values.is_empty() {
            r.remove(&normalise(name));
        } else {
            r.insert(normalise(name), values);
        }
    }
}

/// The answer to one query message; `None` for what is not a query.
fn respond(query: &[u8], records: &Records) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    if request.metadata.message_type != MessageType::Query {
        return None;
    }
    let mut response = Message::response(request.metadata.id, OpCode::Query);
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    let Some(question) = request.queries.first().cloned() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response.to_vec().ok();
    };
    let name = normalise(&question.name().to_ascii());
    let found = records.read().ok().and_then(|r| r.get(&name).cloned());
    response.add_query(question.clone());
    match found {
        None => response.metadata.response_code = ResponseCode::NXDomain,
        Some(values) if question.query_type() == RecordType::TXT => {
            for v in values {
                // A character-string holds at most 255 bytes: longer values are split, as
                // zone files do, and joined again by the reader.
                let parts = v
                    .as_bytes()
                    .chunks(255)
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                let record =
                    Record::from_rdata(question.name().clone(), 60, RData::TXT(TXT::new(parts)));
                response.add_answer(record);
            }
        }
        Some(_) => {}
    }
    response.to_vec().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use porter_shared::dns;

    fn config_for(addr: SocketAddr) -> porter_shared::Config {
        let env = [
            ("PORTER_TABLE", "t".to_owned()),
            ("PORTER_PUBLIC_BASE_URL", "http://localhost:3000".to_owned()),
            ("PORTER_MAIL_FROM", "no-reply@example.com".to_owned()),
            ("PORTER_DNS_SERVERS", addr.to_string()),
        ];
        porter_shared::Config::from_lookup(|k| {
            env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    #[tokio::test]
    async fn the_resolver_finds_what_the_dev_server_publishes_and_nothing_else() {
        let server = DevDns::start(0).await.unwrap();
        let resolver = dns::resolver(&config_for(server.addr)).unwrap();
        let name = "_porter-challenge.acme.test";
        assert_eq!(
            dns::txt(&resolver, name).await,
            Err(dns::DnsError::NoRecord(name.into()))
        );
        let long = "x".repeat(300);
        server.set_txt(
            "_Porter-Challenge.ACME.test.",
            vec!["one".into(), long.clone()],
        );
        let mut found = dns::txt(&resolver, name).await.unwrap();
        found.sort();
        assert_eq!(found, vec!["one".to_owned(), long]);
        server.set_txt(name, vec![]);
        assert!(dns::txt(&resolver, name).await.is_err());
    }
}
