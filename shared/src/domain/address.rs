//! The one rule for the addresses Porter calls or links to: `https`, or plain `http` to a
//! loopback host (`localhost`, `127.0.0.1`) where loopback is allowed (`make dev`, the tests:
//! `PORTER_ALLOW_LOOPBACK`; and Porter's own base URL on a developer's machine).

use url::{Host, Url};

/// A loopback host as people write it: `localhost` or `127.0.0.1`.
pub fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1")
}

/// Whether `url` is `https`, or `http` to a loopback host when `allow_loopback`.
pub fn is_https_or_loopback(url: &Url, allow_loopback: bool) -> bool {
    let loopback = match url.host() {
        Some(Host::Domain(d)) => is_loopback_host(d),
        Some(Host::Ipv4(ip)) => ip.is_loopback() && is_loopback_host(&ip.to_string()),
        _ => false,
    };
    match url.scheme() {
        "https" => true,
        "http" => allow_loopback && loopback,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str, allow: bool) -> bool {
        is_https_or_loopback(&Url::parse(raw).unwrap(), allow)
    }

    #[test]
    fn https_always_http_only_to_loopback_and_only_when_allowed() {
        assert!(ok("https://idp.example.com/x", false));
        assert!(ok("http://localhost:3000", true));
        assert!(ok("http://127.0.0.1:5005/", true));
        assert!(!ok("http://localhost:3000", false));
        assert!(!ok("http://idp.example.com", true));
        assert!(!ok("http://127.0.0.2", true));
        assert!(!ok("ftp://localhost", true));
    }
}
