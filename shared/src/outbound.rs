//! Calls to servers an admin named (identity providers, the vendor platform). Each URL
//! is checked before anything is sent: `https` only, and a host whose every address is public
//! (no loopback, private, link-local — 169.254.0.0/16 and its cloud metadata included — or
//! unique-local range), resolved once and connected to at exactly that address, so a DNS
//! answer cannot change between the check and the call. Redirects are not followed, every
//! call ends after 5 seconds and every answer is cut at 1 MiB.
//! `PORTER_ALLOW_LOOPBACK=true` (dev and tests) also allows `http://127.0.0.1` and
//! `http://localhost`, and nothing else.

use crate::domain::address::{is_https_or_loopback, is_loopback_host};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;
use url::Url;

pub const TIMEOUT: Duration = Duration::from_secs(5);
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OutboundError {
    /// The URL is not one Porter may call: scheme, or an address that is not public.
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Unreachable(String),
    #[error("the answer is larger than 1 MiB")]
    TooLarge,
    #[error("{0}")]
    BadAnswer(String),
}

/// An answer, read whole (within the cap).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// `Cache-Control: max-age` in seconds, when the server gave one (`no-store`/`no-cache`: 0).
    pub max_age: Option<u64>,
}

/// The lifetime a `Cache-Control` header gives an answer, if any.
pub fn max_age(cache_control: &str) -> Option<u64> {
    let mut age = None;
    for directive in cache_control.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if lower == "no-store" || lower == "no-cache" {
            return Some(0);
        }
        if let Some(v) = lower.strip_prefix("max-age=") {
            age = v.trim_matches('"').parse().ok();
        }
    }
    age
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, OutboundError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            OutboundError::BadAnswer(format!("the answer is not the expected JSON: {e}"))
        })
    }
}

/// Whether an address is one the public internet routes to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    let first = seg[0];
    // Forms that carry an IPv4 address inside (which may be a private one): NAT64's
    // 64:ff9b::/96, 6to4's 2002::/16 and the deprecated IPv4-compatible ::/96.
    let embeds_v4 = (seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0])
        || first == 0x2002
        || seg[..6] == [0, 0, 0, 0, 0, 0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || embeds_v4
        || (first & 0xfe00) == 0xfc00 // unique local
        || (first & 0xffc0) == 0xfe80 // link local
        || (first & 0xffc0) == 0xfec0 // site local (deprecated)
        || first == 0x2001 && seg[1] == 0x0db8) // documentation
}

/// The one address a checked URL will be fetched from.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: Url,
    host: String,
    addr: SocketAddr,
}

/// Checks `raw` and resolves its host. `allow_loopback` admits plain http to 127.0.0.1 and
/// localhost only.
pub async fn check(raw: &str, allow_loopback: bool) -> Result<Target, OutboundError> {
    let refused = |why: &str| OutboundError::Refused(why.to_owned());
    let url = Url::parse(raw).map_err(|_| refused("the URL is not valid"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused("the URL must not carry a user name or password"));
    }
    if !is_https_or_loopback(&url, allow_loopback) {
        return Err(refused("only https:// addresses can be used"));
    }
    let loopback_ok = allow_loopback && url.host_str().is_some_and(is_loopback_host);
    let host = url
        .host_str()
        .ok_or_else(|| refused("the URL has no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| refused("the URL has no port"))?;
    let addrs: Vec<SocketAddr> =
        tokio::time::timeout(TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| {
                OutboundError::Unreachable(format!("{host} could not be resolved in time"))
            })?
            .map_err(|_| OutboundError::Unreachable(format!("{host} could not be resolved")))?
            .collect();
    if addrs.is_empty() {
        return Err(OutboundError::Unreachable(format!("{host} has no address")));
    }
    // Every address must pass: a host with one public and one private address is refused.
    let allowed = |a: &SocketAddr| is_public(a.ip()) || (loopback_ok && a.ip().is_loopback());
    if !addrs.iter().all(allowed) {
        return Err(refused(&format!(
            "{host} is not a public internet address, and Porter does not call private, loopback or link-local addresses"
        )));
    }
    let addr = addrs[0];
    Ok(Target { url, host, addr })
}

/// reqwest is built without a crypto provider of its own (it would link ring): it takes the
/// process default, which this sets to the aws-lc-rs the AWS SDK links already. Call it before
/// building any reqwest client; later calls do nothing.
pub fn use_sdk_tls_provider() {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        // Err only when a default is set already, which is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

fn client(target: &Target) -> Result<reqwest::Client, OutboundError> {
    use_sdk_tls_provider();
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        // A proxy named in the environment would see (and could redirect) every call.
        .no_proxy()
        .resolve(&target.host, target.addr)
        .user_agent("Porter")
        .build()
        .map_err(|e| OutboundError::Unreachable(format!("no HTTP client: {e}")))
}

async fn read(mut resp: reqwest::Response) -> Result<Answer, OutboundError> {
    let status = resp.status().as_u16();
    let max_age = resp
        .headers()
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .and_then(max_age);
    if resp.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(OutboundError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| unreachable(&e))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(OutboundError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        body,
        max_age,
    })
}

fn unreachable(e: &reqwest::Error) -> OutboundError {
    if e.is_timeout() {
        OutboundError::Unreachable("no answer within 5 seconds".into())
    } else {
        OutboundError::Unreachable("the server could not be reached".into())
    }
}

/// GET, accepting JSON.
pub async fn get(target: &Target) -> Result<Answer, OutboundError> {
    get_authorized(target, None).await
}

/// GET, accepting JSON, with an OAuth bearer token.
pub async fn get_authorized(
    target: &Target,
    bearer: Option<&str>,
) -> Result<Answer, OutboundError> {
    let mut req = client(target)?
        .get(target.url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.map_err(|e| unreachable(&e))?;
    tokio::time::timeout(TIMEOUT, read(resp))
        .await
        .map_err(|_| OutboundError::Unreachable("no answer within 5 seconds".into()))?
}

/// GET, with the headers given (and no `Accept` of its own).
pub async fn get_with(target: &Target, headers: &[(&str, &str)]) -> Result<Answer, OutboundError> {
    let mut req = client(target)?.get(target.url.clone());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.map_err(|e| unreachable(&e))?;
    tokio::time::timeout(TIMEOUT, read(resp))
        .await
        .map_err(|_| OutboundError::Unreachable("no answer within 5 seconds".into()))?
}

/// POST of a form, with optional HTTP basic credentials.
pub async fn post_form(
    target: &Target,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> Result<Answer, OutboundError> {
    let mut req = client(target)?
        .post(target.url.clone())
        .header(reqwest::header::ACCEPT, "application/json")
        .form(form);
    if let Some((user, password)) = basic {
        req = req.basic_auth(user, Some(password));
    }
    let resp = req.send().await.map_err(|e| unreachable(&e))?;
    tokio::time::timeout(TIMEOUT, read(resp))
        .await
        .map_err(|_| OutboundError::Unreachable("no answer within 5 seconds".into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_unique_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "fec0::1",
            "::a00:1",
            "192.0.0.8",
        ] {
            assert!(
                !is_public(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))),
                "{ip}"
            );
        }
        for ip in ["93.184.216.34", "2606:4700::1111"] {
            assert!(
                is_public(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))),
                "{ip}"
            );
        }
    }

    #[tokio::test]
    async fn plain_http_and_private_hosts_are_refused_and_loopback_needs_the_switch() {
        assert!(matches!(
            check("http://idp.example/x", false).await,
            Err(OutboundError::Refused(_))
        ));
        assert!(matches!(
            check("https://127.0.0.1/x", false).await,
            Err(OutboundError::Refused(_))
        ));
        assert!(matches!(
            check("https://169.254.169.254/latest", true).await,
            Err(OutboundError::Refused(_))
        ));
        assert!(matches!(
            check("http://10.0.0.1/x", true).await,
            Err(OutboundError::Refused(_))
        ));
        assert!(matches!(
            check("https://user:pw@idp.example/x", false).await,
            Err(OutboundError::Refused(_))
        ));
        assert!(check("http://127.0.0.1:9/x", true).await.is_ok());
        assert!(check("http://localhost:9/x", true).await.is_ok());
    }

    /// reqwest links no crypto provider of its own: an https call must still open with a TLS
    /// handshake (on the SDK's aws-lc-rs), and a server that is no TLS server is unreachable.
    #[tokio::test]
    async fn https_calls_speak_tls_and_a_server_that_does_not_is_unreachable() {
        use tokio::io::AsyncReadExt;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut first = [0u8; 3];
            socket.read_exact(&mut first).await.unwrap();
            first // the socket drops here: no TLS answer
        });
        let target = Target {
            url: Url::parse(&format!("https://idp.test:{}/x", addr.port())).unwrap(),
            host: "idp.test".into(),
            addr,
        };
        let answer = get(&target).await;
        assert!(
            matches!(answer, Err(OutboundError::Unreachable(_))),
            "{answer:?}"
        );
        // A TLS record of type handshake (22), version 3.x: a ClientHello.
        assert_eq!(server.await.unwrap()[..2], [22, 3]);
    }
}

#[cfg(test)]
mod cache_control_tests {
    use super::max_age;

    #[test]
    fn a_cache_control_header_gives_a_lifetime_and_no_store_none() {
        assert_eq!(max_age("public, max-age=300"), Some(300));
        assert_eq!(max_age("max-age=86400, must-revalidate"), Some(86400));
        assert_eq!(max_age("no-store"), Some(0));
        assert_eq!(max_age("private"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
