//! `web`: the static pages and their assets, and the health check. Pages are compiled into
//! the binary: no S3 bucket to keep in step with the code.

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use porter_shared::http::{html, json, redirect, ApiError, Body, Request, Response};
use serde_json::json as j;

/// Scripts and styles only from our own origin, nothing inline, no framing, no plugins.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

const ACTIVATE: &str = include_str!("../pages/activate.html");
const LOGIN: &str = include_str!("../pages/login.html");
const NOT_FOUND: &str = include_str!("../pages/not_found.html");
const CSS: &str = include_str!("../pages/porter.css");
const ACTIVATE_JS: &str = include_str!("../pages/activate.js");
const COMMON_JS: &str = include_str!("../pages/common.js");
const LOGIN_JS: &str = include_str!("../pages/login.js");
const RESET: &str = include_str!("../pages/reset.html");
const RESET_JS: &str = include_str!("../pages/reset.js");
const APP: &str = include_str!("../pages/app.html");
const APP_JS: &str = include_str!("../pages/app.js");

fn page(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = html(status, body);
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    resp
}

fn asset(content_type: &'static str, body: &'static str) -> Response<Body> {
    let mut resp = Response::new(Body::Text(body.to_owned()));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Short: assets are not fingerprinted, and a deploy should reach browsers within minutes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    porter_shared::http::with_security_headers(resp)
}

pub async fn handle(req: Request) -> Response<Body> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return ApiError::method_not_allowed().into_response();
    }
    let path = req.uri().path();
    match path {
        "/api/health" => json(StatusCode::OK, &j!({ "status": "ok" })),
        "/" => redirect("/login"),
        "/activate" => page(StatusCode::OK, ACTIVATE),
        "/login" => page(StatusCode::OK, LOGIN),
        "/reset" => page(StatusCode::OK, RESET),
        "/assets/porter.css" => asset("text/css; charset=utf-8", CSS),
        "/assets/activate.js" => asset("text/javascript; charset=utf-8", ACTIVATE_JS),
        "/assets/common.js" => asset("text/javascript; charset=utf-8", COMMON_JS),
        "/assets/login.js" => asset("text/javascript; charset=utf-8", LOGIN_JS),
        "/assets/reset.js" => asset("text/javascript; charset=utf-8", RESET_JS),
        "/assets/app.js" => asset("text/javascript; charset=utf-8", APP_JS),
        // The app shell: it asks /api/me who is there and sends strangers to sign-in.
        p if p == "/app" || p.starts_with("/app/") => page(StatusCode::OK, APP),
        p if p.starts_with("/api/") => ApiError::not_found().into_response(),
        _ => page(StatusCode::NOT_FOUND, NOT_FOUND),
    }
}
