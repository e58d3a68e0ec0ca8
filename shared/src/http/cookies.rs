//! Porter's cookies, in one place: the session cookie, the single sign-on binding cookie and
//! the device cookie, their names, attributes and reading them back.
//!
//! All are HttpOnly, Path=/ and, outside `http://localhost`, Secure with the `__Host-` prefix,
//! which binds them to this exact origin (no Domain). Browsers refuse that prefix without
//! Secure, so plain `http://localhost` in development uses unprefixed names. The session and
//! binding cookies are SameSite=Lax (the identity provider's redirect back is a cross-site
//! navigation); the device cookie is SameSite=Strict: only Porter's own pages' requests need it.

use crate::Config;
use http::{header, HeaderValue};
use lambda_http::Request;

/// Which of Porter's cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookie {
    /// The session: an opaque id whose hash names the session item.
    Session,
    /// Binds a sign-in at an identity provider to the browser that started it (the PKCE
    /// verifier, whose challenge the state item keeps).
    SsoBinding,
    /// A browser that completed a sign-in (see `domain::device`): a year, SameSite=Strict.
    Device,
}

impl Cookie {
    /// The name rule: `__Host-<base>`, or `<base>` on plain `http://localhost`.
    pub fn name(self, config: &Config) -> &'static str {
        match (self, config.is_local_http()) {
            (Self::Session, true) => "porter_session",
            (Self::Session, false) => "__Host-porter_session",
            (Self::SsoBinding, true) => "porter_sso",
            (Self::SsoBinding, false) => "__Host-porter_sso",
            (Self::Device, true) => "porter_device",
            (Self::Device, false) => "__Host-porter_device",
        }
    }

    /// `Set-Cookie` for `value`, living `max_age` seconds.
    pub fn set(self, config: &Config, value: &str, max_age: i64) -> HeaderValue {
        let secure = if config.is_local_http() {
            ""
        } else {
            "; Secure"
        };
        let same_site = match self {
            Self::Device => "Strict",
            Self::Session | Self::SsoBinding => "Lax",
        };
        let line = format!(
            "{}={value}; Path=/; HttpOnly; SameSite={same_site}; Max-Age={max_age}{secure}",
            self.name(config)
        );
        HeaderValue::from_str(&line).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// `Set-Cookie` that removes it.
    pub fn clear(self, config: &Config) -> HeaderValue {
        self.set(config, "", 0)
    }

    /// Its value as the browser sent it, if it did.
    pub fn read(self, req: &Request, config: &Config) -> Option<String> {
        let name = self.name(config);
        req.headers()
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }
}

/// Whether the request carries Porter's session cookie (what the Origin check protects).
pub fn carries_session(req: &Request, config: &Config) -> bool {
    Cookie::Session.read(req, config).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> Config {
        Config::from_lookup(|k| match k {
            "PORTER_TABLE" => Some("t".into()),
            "PORTER_PUBLIC_BASE_URL" => Some(url.into()),
            "PORTER_MAIL_FROM" => Some("a@b.test".into()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn the_cookie_is_host_prefixed_secure_httponly_and_lax() {
        let v = Cookie::Session.set(&config("https://id.example.com"), "abc", 60);
        assert_eq!(
            v.to_str().unwrap(),
            "__Host-porter_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        let v = Cookie::SsoBinding.clear(&config("https://id.example.com"));
        assert_eq!(
            v.to_str().unwrap(),
            "__Host-porter_sso=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
        );
    }

    #[test]
    fn the_device_cookie_is_strict() {
        let v = Cookie::Device.set(&config("https://id.example.com"), "abc", 31_536_000);
        assert_eq!(
            v.to_str().unwrap(),
            "__Host-porter_device=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000; Secure"
        );
    }

    #[test]
    fn only_localhost_over_http_drops_secure_and_the_prefix() {
        let v = Cookie::Session.set(&config("http://localhost:3000"), "abc", 60);
        assert_eq!(
            v.to_str().unwrap(),
            "porter_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
    }

    #[test]
    fn a_cookie_is_read_by_its_exact_name_only() {
        let config = config("https://id.example.com");
        let req = http::Request::builder()
            .header(
                "cookie",
                "x__Host-porter_session=evil; __Host-porter_sso=v1",
            )
            .header("cookie", "__Host-porter_session=s1")
            .body(lambda_http::Body::Empty)
            .unwrap();
        let req = Request::from(req);
        assert_eq!(Cookie::Session.read(&req, &config).as_deref(), Some("s1"));
        assert_eq!(
            Cookie::SsoBinding.read(&req, &config).as_deref(),
            Some("v1")
        );
        assert!(carries_session(&req, &config));
    }
}
