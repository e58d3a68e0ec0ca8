use http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

/// Headers every answer carries; `Routes::serve` adds them to every answer, once. API answers are never cached (they hold personal data), and
/// pages send no Referer: activation and reset links carry their token in the query string.
pub fn with_security_headers(mut resp: Response<Body>) -> Response<Body> {
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// A file to download (`Content-Disposition: attachment`), e.g. a CSV export.
pub fn attachment(
    content_type: &'static str,
    disposition: &'static str,
    body: String,
) -> Response<Body> {
    let mut resp = build(StatusCode::OK, content_type, Body::Text(body));
    resp.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static(disposition),
    );
    resp
}

fn build(status: StatusCode, content_type: &'static str, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// An acknowledgement: what happened (`status`) and a sentence for the person.
#[derive(Debug, Serialize)]
pub struct Notice {
    pub status: &'static str,
    pub message: &'static str,
}

/// A sentence for the person, and nothing else to say.
#[derive(Debug, Serialize)]
pub struct Message {
    pub message: &'static str,
}

pub fn json<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    // Serialising our own response types cannot fail; fall back to an empty object if it did.
    let text = serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned());
    build(status, "application/json", Body::Text(text))
}

pub fn empty(status: StatusCode) -> Response<Body> {
    let mut resp = Response::new(Body::Empty);
    *resp.status_mut() = status;
    resp
}

pub fn html(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    build(status, "text/html; charset=utf-8", Body::Text(body.into()))
}

pub fn redirect(location: &str) -> Response<Body> {
    let mut resp = empty(StatusCode::FOUND);
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// A JSON answer that also sets (or clears) the session cookie.
pub fn json_with_cookie<T: Serialize + ?Sized>(
    status: StatusCode,
    value: &T,
    cookie: HeaderValue,
) -> Response<Body> {
    let mut resp = json(status, value);
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    resp
}
