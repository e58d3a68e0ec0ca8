use super::ApiError;
use crate::Config;
use http::{header, Method, StatusCode};
use lambda_http::Request;
use serde::de::DeserializeOwned;

/// Every JSON body Porter accepts is a handful of short fields; anything bigger is refused
/// before it is parsed.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Parses a JSON body strictly: `application/json` only, at most [`MAX_BODY_BYTES`], and the
/// shape of `T`. Each failure has its own code so that clients can tell them apart.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mime = content_type.split(';').next().unwrap_or_default().trim();
    if !mime.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the request body as application/json.",
        ));
    }
    let body: &[u8] = req.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        use serde_json::error::Category;
        match e.classify() {
            Category::Data => {
                // serde's sentence ("missing field `token`") without its line/column suffix.
                let text = e.to_string();
                let sentence = text.split(" at line ").next().unwrap_or("invalid field");
                ApiError::bad_request(
                    "invalid_request",
                    format!("The request is invalid: {sentence}."),
                )
            }
            _ => ApiError::bad_request("malformed_json", "The request body is not valid JSON."),
        }
    })
}

/// The one state-changing route other origins may call (see [`check_origin`]).
pub const CROSS_ORIGIN_TOKEN_PATH: &str = "/oauth2/token";

/// CSRF defence for state-changing requests: a browser always sends `Origin` on a
/// cross-site POST, so one that names another site is refused. Requests without `Origin`
/// (scripts, `cargo lambda invoke`) carry no ambient browser credentials to abuse.
pub fn check_origin(req: &Request, config: &Config) -> Result<(), ApiError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(());
    }
    // The OpenID provider's token endpoint never reads a cookie: an app in a browser calls
    // it from its own origin, proving itself with its code and PKCE verifier.
    if req.uri().path() == CROSS_ORIGIN_TOKEN_PATH {
        return Ok(());
    }
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            "This request came from another site and was refused.",
        )
    };
    let origin = config.public_origin();
    match req.headers().get(header::ORIGIN).map(|v| v.to_str()) {
        Some(Ok(o)) if o == origin => Ok(()),
        Some(_) => Err(refused()),
        // No Origin and no session cookie: a script, with no ambient credentials to abuse.
        None if !super::cookies::carries_session(req, config) => Ok(()),
        // No Origin but the cookie: only a browser's own same-origin request may pass.
        None => {
            let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
            let same_site = header("sec-fetch-site") == Some("same-origin");
            let same_referer = header(header::REFERER.as_str())
                .is_some_and(|r| r == origin || r.starts_with(&format!("{origin}/")));
            if same_site || same_referer {
                Ok(())
            } else {
                Err(refused())
            }
        }
    }
}

/// One query parameter, percent-decoded. Read from the URI, which API Gateway and the dev
/// server both fill, rather than from Lambda-only request extensions.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The caller's address as API Gateway saw it (`requestContext.http.sourceIp`), for audit
/// lines and throttling. Headers such as `X-Forwarded-For` are the caller's own words and are
/// never read: anyone could name any address in them.
pub fn client_ip(req: &Request) -> String {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    }
    .unwrap_or_else(|| "unknown".to_owned())
}

/// The browser's `User-Agent`, as the account page shows it beside a session: printable
/// characters only, 200 at most.
pub fn user_agent(req: &Request) -> String {
    req.headers()
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

/// The request as API Gateway would hand it over from `source_ip`: what the dev server does
/// with the socket's address, and the tests with an address of their choosing.
pub fn with_source_ip(req: Request, source_ip: &str) -> Request {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let mut ctx = ApiGatewayV2httpRequestContext::default();
    ctx.http.method = req.method().clone();
    ctx.http.path = Some(req.uri().path().to_owned());
    ctx.http.source_ip = Some(source_ip.to_owned());
    req.with_request_context(RequestContext::ApiGatewayV2(ctx))
}
