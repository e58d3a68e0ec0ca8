//! The pages and their assets, served from the binary, and the health check.

use lambda_http::http::{header, HeaderValue, StatusCode};
use porter_shared::http::{html, json, redirect, ApiError, Body, HandlerResult, Request, Response};

/// Scripts and styles only from our own origin, nothing inline, no framing, no plugins.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const ACTIVATE: &str = include_str!("../pages/activate.html");
const LOGIN: &str = include_str!("../pages/login.html");
const NOT_FOUND: &str = include_str!("../pages/not_found.html");
const CSS: &str = include_str!("../pages/porter.css");
const LINK_PASSWORD_JS: &str = include_str!("../pages/link-password.js");
const COMMON_JS: &str = include_str!("../pages/common.js");
const LOGIN_JS: &str = include_str!("../pages/login.js");
const RESET: &str = include_str!("../pages/reset.html");
const APP: &str = include_str!("../pages/app.html");
const APP_JS: &str = include_str!("../pages/app.js");
const APP_UI_JS: &str = include_str!("../pages/app-ui.js");
const APP_DASHBOARD_JS: &str = include_str!("../pages/app-dashboard.js");
const APP_USERS_JS: &str = include_str!("../pages/app-users.js");
const APP_AUDIT_JS: &str = include_str!("../pages/app-audit.js");
const APP_SSO_JS: &str = include_str!("../pages/app-sso.js");
const APP_SIGNIN_JS: &str = include_str!("../pages/app-signin.js");
const APP_ACCOUNT_JS: &str = include_str!("../pages/app-account.js");
const APP_API_JS: &str = include_str!("../pages/app-api.js");
const APP_ORGANIZATIONS_JS: &str = include_str!("../pages/app-organizations.js");

/// The pages that have a path of their own; every `/app/...` path is the app shell, which
/// asks /api/me who is there and sends strangers to sign-in.
const PAGES: &[(&str, &str)] = &[
    ("/activate", ACTIVATE),
    ("/login", LOGIN),
    ("/reset", RESET),
    ("/app", APP),
];

const ASSETS: &[(&str, &str, &str)] = &[
    ("porter.css", "text/css; charset=utf-8", CSS),
    (
        "link-password.js",
        "text/javascript; charset=utf-8",
        LINK_PASSWORD_JS,
    ),
    ("common.js", "text/javascript; charset=utf-8", COMMON_JS),
    ("login.js", "text/javascript; charset=utf-8", LOGIN_JS),
    ("app.js", "text/javascript; charset=utf-8", APP_JS),
    ("app-ui.js", "text/javascript; charset=utf-8", APP_UI_JS),
    (
        "app-dashboard.js",
        "text/javascript; charset=utf-8",
        APP_DASHBOARD_JS,
    ),
    (
        "app-users.js",
        "text/javascript; charset=utf-8",
        APP_USERS_JS,
    ),
    (
        "app-audit.js",
        "text/javascript; charset=utf-8",
        APP_AUDIT_JS,
    ),
    ("app-sso.js", "text/javascript; charset=utf-8", APP_SSO_JS),
    (
        "app-signin.js",
        "text/javascript; charset=utf-8",
        APP_SIGNIN_JS,
    ),
    (
        "app-account.js",
        "text/javascript; charset=utf-8",
        APP_ACCOUNT_JS,
    ),
    ("app-api.js", "text/javascript; charset=utf-8", APP_API_JS),
    (
        "app-organizations.js",
        "text/javascript; charset=utf-8",
        APP_ORGANIZATIONS_JS,
    ),
];

fn page(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = html(status, body);
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    resp
}

pub(crate) async fn health(_: &(), _: &Request) -> HandlerResult {
    Ok(json(StatusCode::OK, &Health { status: "ok" }))
}

pub(crate) async fn root(_: &(), _: &Request) -> HandlerResult {
    Ok(redirect("/login"))
}

pub(crate) async fn named_page(_: &(), req: &Request) -> HandlerResult {
    let path = req.uri().path().trim_end_matches('/');
    Ok(PAGES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, body)| page(StatusCode::OK, body))
        .unwrap_or_else(|| page(StatusCode::NOT_FOUND, NOT_FOUND)))
}

pub(crate) async fn app_page(_: &(), _: &Request, _rest: String) -> HandlerResult {
    Ok(page(StatusCode::OK, APP))
}

pub(crate) async fn asset(_: &(), _: &Request, name: String) -> HandlerResult {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return Err(ApiError::not_found());
    };
    let mut resp = Response::new(Body::Text((*body).to_owned()));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Short: assets are not fingerprinted, and a deploy should reach browsers within minutes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(resp)
}

/// An unknown API path is a JSON 404; anything else is a page that says so.
pub(crate) async fn not_found(_: &(), req: &Request) -> HandlerResult {
    if req.uri().path().starts_with("/api/") {
        return Err(ApiError::not_found());
    }
    Ok(page(StatusCode::NOT_FOUND, NOT_FOUND))
}

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
}
