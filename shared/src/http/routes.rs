//! The request envelope every function shares: a route table that checks the Origin of
//! state-changing requests, answers 405 with `Allow` for a known path and another method, 404
//! for an unknown path, turns a handler's `ApiError` into its JSON answer and adds the security
//! headers, once, for every answer. A function's `lib.rs` is then only its list of routes.
//!
//! ```ignore
//! Routes::new()
//!     .get("/api/users", list)
//!     .patch("/api/users/{id}", change_role) // async fn change_role(&S, &Request, UserId)
//! ```
//!
//! A `{name}` segment is handed to the handler typed ([`PathParam`]); a last segment
//! `{*name}` takes the rest of the path (one segment or more).

use super::{with_security_headers, ApiError};
use crate::domain::{TenantId, UserId};
use http::{header, HeaderValue, Method};
use lambda_http::{Body, Request, Response};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

pub type HandlerResult = Result<Response<Body>, ApiError>;
type BoxFuture<'a> = Pin<Box<dyn Future<Output = HandlerResult> + Send + 'a>>;

/// What the envelope needs from the state its handlers get: for the Origin check, the state
/// must know the public origin (the AppState implements it, in `state.rs`, above this layer);
/// state-free functions (static pages) have none to check.
pub trait RouteState: Sync + 'static {
    fn check_origin(&self, req: &Request) -> Result<(), ApiError>;
}

/// Static pages change nothing, so there is nothing to protect from other sites.
impl RouteState for () {
    fn check_origin(&self, _: &Request) -> Result<(), ApiError> {
        Ok(())
    }
}

/// A path segment parsed into the type its handler wants. A segment that does not parse is
/// answered with the type's own error (e.g. a malformed user id is a 404 `user_not_found`).
pub trait PathParam: Sized + Send {
    fn from_segment(segment: &str) -> Result<Self, ApiError>;
}

/// A user named in a path: one that cannot exist is as unknown as one that does not.
impl PathParam for UserId {
    fn from_segment(segment: &str) -> Result<Self, ApiError> {
        UserId::parse(segment).ok_or_else(|| {
            ApiError::new(
                http::StatusCode::NOT_FOUND,
                "user_not_found",
                "There is no such user in your organisation.",
            )
        })
    }
}

/// An organization named in a path: one that cannot exist is as unknown as one that does not.
impl PathParam for TenantId {
    fn from_segment(segment: &str) -> Result<Self, ApiError> {
        TenantId::parse(segment).ok_or_else(ApiError::organization_not_found)
    }
}

/// An app named in a path: one that cannot exist is as unknown as one that does not.
impl PathParam for crate::domain::ClientId {
    fn from_segment(segment: &str) -> Result<Self, ApiError> {
        Self::parse(segment).ok_or_else(|| {
            ApiError::new(
                http::StatusCode::NOT_FOUND,
                "client_not_found",
                "There is no such app.",
            )
        })
    }
}

impl PathParam for String {
    fn from_segment(segment: &str) -> Result<Self, ApiError> {
        Ok(segment.to_owned())
    }
}

/// `async fn(&S, &Request) -> HandlerResult`, for any lifetime of its arguments.
pub trait Handler0<'a, S: 'a>: Send + Sync + 'static {
    type Fut: Future<Output = HandlerResult> + Send + 'a;
    fn call(&self, state: &'a S, req: &'a Request) -> Self::Fut;
}

impl<'a, S: 'a, F, Fut> Handler0<'a, S> for F
where
    F: Fn(&'a S, &'a Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'a,
{
    type Fut = Fut;
    fn call(&self, state: &'a S, req: &'a Request) -> Fut {
        self(state, req)
    }
}

/// `async fn(&S, &Request, P) -> HandlerResult`, where `P` is the one path parameter.
pub trait Handler1<'a, S: 'a, P>: Send + Sync + 'static {
    type Fut: Future<Output = HandlerResult> + Send + 'a;
    fn call(&self, state: &'a S, req: &'a Request, param: P) -> Self::Fut;
}

impl<'a, S: 'a, P, F, Fut> Handler1<'a, S, P> for F
where
    F: Fn(&'a S, &'a Request, P) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'a,
{
    type Fut = Fut;
    fn call(&self, state: &'a S, req: &'a Request, param: P) -> Fut {
        self(state, req, param)
    }
}

/// A handler of either shape, its argument types erased so routes fit one table.
pub trait Handler<S, Args>: Send + Sync + 'static {
    fn run<'a>(&'a self, state: &'a S, req: &'a Request, params: &[&str]) -> BoxFuture<'a>;
}

impl<S: 'static, F> Handler<S, ()> for F
where
    F: for<'a> Handler0<'a, S>,
{
    fn run<'a>(&'a self, state: &'a S, req: &'a Request, _: &[&str]) -> BoxFuture<'a> {
        Box::pin(self.call(state, req))
    }
}

impl<S: 'static, P: PathParam + 'static, F> Handler<S, (P,)> for F
where
    F: for<'a> Handler1<'a, S, P>,
{
    fn run<'a>(&'a self, state: &'a S, req: &'a Request, params: &[&str]) -> BoxFuture<'a> {
        match P::from_segment(params.first().copied().unwrap_or_default()) {
            Ok(p) => Box::pin(self.call(state, req, p)),
            Err(e) => Box::pin(std::future::ready(Err(e))),
        }
    }
}

trait Erased<S>: Send + Sync {
    fn run<'a>(&'a self, state: &'a S, req: &'a Request, params: &[&str]) -> BoxFuture<'a>;
}

struct Typed<H, Args>(H, PhantomData<fn() -> Args>);

impl<S, Args: 'static, H: Handler<S, Args>> Erased<S> for Typed<H, Args> {
    fn run<'a>(&'a self, state: &'a S, req: &'a Request, params: &[&str]) -> BoxFuture<'a> {
        self.0.run(state, req, params)
    }
}

/// Whether the request was made to localhost (the dev server, cargo-lambda, the tests).
fn is_local_request(req: &Request) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or_default();
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param,
    Rest,
}

fn parse_pattern(pattern: &str) -> Vec<Segment> {
    pattern
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with("{*") && s.ends_with('}') {
                Segment::Rest
            } else if s.starts_with('{') && s.ends_with('}') {
                Segment::Param
            } else {
                Segment::Literal(s.to_owned())
            }
        })
        .collect()
}

/// The parameters of `path` if it matches `pattern`.
fn match_path<'p>(pattern: &[Segment], path: &'p str) -> Option<Vec<&'p str>> {
    let trimmed = path.trim_start_matches('/');
    let mut rest = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let mut params = Vec::new();
    for seg in pattern {
        if *seg == Segment::Rest {
            if rest.is_empty() {
                return None;
            }
            params.push(rest);
            return Some(params);
        }
        let (head, tail) = rest.split_once('/').unwrap_or((rest, ""));
        match seg {
            Segment::Literal(l) if l == head => {}
            Segment::Param if !head.is_empty() => params.push(head),
            _ => return None,
        }
        rest = tail;
    }
    rest.is_empty().then_some(params)
}

struct Route<S> {
    method: Method,
    pattern: Vec<Segment>,
    handler: Box<dyn Erased<S>>,
}

/// A function's routes. Build it once per instance (a `static` `LazyLock`) and `serve` each
/// request with it.
pub struct Routes<S: 'static> {
    routes: Vec<Route<S>>,
    fallback: Option<Box<dyn Erased<S>>>,
}

impl<S: RouteState> Default for Routes<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: RouteState> Routes<S> {
    pub fn new() -> Self {
        Self {
            routes: Vec::new(),
            fallback: None,
        }
    }

    pub fn route<Args: 'static>(
        mut self,
        method: Method,
        pattern: &str,
        handler: impl Handler<S, Args>,
    ) -> Self {
        self.routes.push(Route {
            method,
            pattern: parse_pattern(pattern),
            handler: Box::new(Typed(handler, PhantomData)),
        });
        self
    }

    /// GET, and HEAD for the same path.
    pub fn get<Args: 'static>(self, pattern: &str, handler: impl Handler<S, Args>) -> Self {
        self.route(Method::GET, pattern, handler)
    }

    pub fn post<Args: 'static>(self, pattern: &str, handler: impl Handler<S, Args>) -> Self {
        self.route(Method::POST, pattern, handler)
    }

    pub fn put<Args: 'static>(self, pattern: &str, handler: impl Handler<S, Args>) -> Self {
        self.route(Method::PUT, pattern, handler)
    }

    pub fn patch<Args: 'static>(self, pattern: &str, handler: impl Handler<S, Args>) -> Self {
        self.route(Method::PATCH, pattern, handler)
    }

    pub fn delete<Args: 'static>(self, pattern: &str, handler: impl Handler<S, Args>) -> Self {
        self.route(Method::DELETE, pattern, handler)
    }

    /// What answers a path no route knows (by default a JSON 404 `not_found`).
    pub fn fallback(mut self, handler: impl Handler<S, ()>) -> Self {
        self.fallback = Some(Box::new(Typed(handler, PhantomData)));
        self
    }

    /// The one envelope: Origin check, routing, 405/404, error → JSON, security headers.
    pub async fn serve(&self, state: &S, req: Request) -> Response<Body> {
        let started = std::time::Instant::now();
        let result = match state.check_origin(&req) {
            Err(e) => Err(e),
            Ok(()) => self.dispatch(state, &req).await,
        };
        let mut resp = with_security_headers(result.unwrap_or_else(ApiError::into_response));
        // HTTPS only, for a year, everywhere but a developer's http://localhost (where
        // browsers ignore it anyway, but a stray header would pin localhost to https).
        if !is_local_request(&req) {
            resp.headers_mut().insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        // One line per request, for CloudWatch Logs Insights: the path without its query
        // (links carry tokens there), never a header or a body.
        tracing::info!(
            request_id = %request_id(&req),
            method = %req.method(),
            path = req.uri().path(),
            status = resp.status().as_u16(),
            ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "answered"
        );
        resp
    }

    async fn dispatch(&self, state: &S, req: &Request) -> HandlerResult {
        let path = req.uri().path();
        let method = req.method();
        let mut allowed: Vec<&Method> = Vec::new();
        for route in &self.routes {
            let Some(params) = match_path(&route.pattern, path) else {
                continue;
            };
            if route.method == method || (route.method == Method::GET && method == Method::HEAD) {
                return route.handler.run(state, req, &params).await;
            }
            allowed.push(&route.method);
        }
        if allowed.is_empty() {
            return match &self.fallback {
                Some(f) => f.run(state, req, &[]).await,
                None => Err(ApiError::not_found()),
            };
        }
        let allow = allowed
            .iter()
            .map(|m| m.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let mut resp = ApiError::method_not_allowed().into_response();
        if let Ok(v) = HeaderValue::from_str(&allow) {
            resp.headers_mut().insert(header::ALLOW, v);
        }
        Ok(resp)
    }
}

/// The Lambda invocation's request id (what Lambda's own log lines carry), else API Gateway's.
fn request_id(req: &Request) -> String {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    if let Some(c) = req.lambda_context_ref() {
        return c.request_id.clone();
    }
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_matches_its_literals_and_hands_out_its_parameters() {
        let p = parse_pattern("/api/users/{id}/resend");
        assert_eq!(match_path(&p, "/api/users/u_1/resend"), Some(vec!["u_1"]));
        assert_eq!(match_path(&p, "/api/users/u_1/resend/"), Some(vec!["u_1"]));
        assert_eq!(match_path(&p, "/api/users//resend"), None);
        assert_eq!(match_path(&p, "/api/users/u_1"), None);
        assert_eq!(match_path(&p, "/api/users/u_1/resend/x"), None);
    }

    #[test]
    fn a_rest_segment_takes_one_segment_or_more() {
        let p = parse_pattern("/app/{*rest}");
        assert_eq!(match_path(&p, "/app/a/b"), Some(vec!["a/b"]));
        assert_eq!(match_path(&p, "/app"), None);
        assert_eq!(match_path(&parse_pattern("/"), "/"), Some(vec![]));
    }

    async fn hello(_: &(), _: &Request) -> HandlerResult {
        Ok(super::super::empty(http::StatusCode::NO_CONTENT))
    }

    async fn user(_: &(), _: &Request, id: UserId) -> HandlerResult {
        Ok(super::super::json(http::StatusCode::OK, &id))
    }

    fn table() -> Routes<()> {
        Routes::new()
            .post("/hello", hello)
            .delete("/hello", hello)
            .get("/users/{id}", user)
    }

    fn req(method: &str, path: &str) -> Request {
        let uri = if path.starts_with('/') {
            format!("http://localhost{path}")
        } else {
            path.to_owned()
        };
        http::Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::Empty)
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn a_known_path_with_another_method_is_405_with_allow_and_every_answer_has_the_headers() {
        let routes = table();
        let resp = routes.serve(&(), req("GET", "/hello")).await;
        assert_eq!(resp.status(), 405);
        assert_eq!(resp.headers()[header::ALLOW], "POST, DELETE");
        assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "DENY");
        let resp = routes.serve(&(), req("POST", "/nowhere")).await;
        assert_eq!(resp.status(), 404);
        assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let resp = routes.serve(&(), req("POST", "/hello")).await;
        assert_eq!(resp.status(), 204);
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
        assert!(
            resp.headers()
                .get(header::STRICT_TRANSPORT_SECURITY)
                .is_none(),
            "not on localhost"
        );
        let public = routes
            .serve(&(), req("POST", "https://id.example.com/hello"))
            .await;
        assert_eq!(
            public.headers()[header::STRICT_TRANSPORT_SECURITY],
            "max-age=31536000; includeSubDomains"
        );
    }

    #[tokio::test]
    async fn path_parameters_arrive_typed_and_a_malformed_one_is_its_own_404() {
        let routes = table();
        let ok = routes
            .serve(&(), req("GET", "/users/u_0000000000000000"))
            .await;
        assert_eq!(ok.status(), 200);
        let bad = routes.serve(&(), req("GET", "/users/nobody")).await;
        assert_eq!(bad.status(), 404);
        let body: &[u8] = bad.body().as_ref();
        assert!(String::from_utf8_lossy(body).contains("user_not_found"));
    }
}
