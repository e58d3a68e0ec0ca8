//! The dev server: API Gateway's routing (from template.yaml) in front of the very handlers
//! the Lambda binaries run, plus the local outbox.

use crate::outbox;
use crate::routes::{Resolution, RouteTable};
use anyhow::bail;
use axum::extract::{ConnectInfo, State};
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use lambda_http::{Body, Request, Response};
use porter_shared::http::ApiError;
use porter_shared::mail::templates::escape;
use porter_shared::AppState;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub type BoxResponse<'a> = Pin<Box<dyn Future<Output = Response<Body>> + Send + 'a>>;
pub type Handler = for<'a> fn(&'a AppState, Request) -> BoxResponse<'a>;

fn web_handler(_: &AppState, req: Request) -> BoxResponse<'_> {
    Box::pin(web::handle(req))
}

/// One wrapper per function crate (function pointers need a named `fn` each), and the map
/// from binary name to handler. Each function that template.yaml declares must be here.
macro_rules! handlers {
    ($($binary:literal => $krate:ident),* $(,)?) => {
        mod wrappers {
            use super::{AppState, BoxResponse, Request};
            $(
                pub fn $krate(state: &AppState, req: Request) -> BoxResponse<'_> {
                    Box::pin(::$krate::handle(state, req))
                }
            )*
        }

        /// Binary name → handler.
        pub fn handler_for(binary: &str) -> Option<Handler> {
            match binary {
                "web" => Some(web_handler),
                $($binary => Some(wrappers::$krate),)*
                _ => None,
            }
        }
    };
}

handlers! {
    "activate" => activate,
    "login" => login,
    "mfa-enroll" => mfa_enroll,
    "me" => me,
    "setup" => setup,
    "organizations" => organizations,
    "invite-user" => invite_user,
    "users" => users,
    "configure-sso" => configure_sso,
    "login-callback" => login_callback,
    "api-management" => api_management,
    "check-license" => check_license,
    "account" => account,
    "account-password" => account_password,
    "token" => token,
    "oauth2" => oauth2,
    "solutions" => solutions,
}

pub struct Dev {
    pub app: AppState,
    pub routes: RouteTable,
    pub handlers: HashMap<String, Handler>,
    pub moto_endpoint: String,
    /// The records of the local DNS server, when `make dev` runs one.
    pub dns: Option<crate::dns::Records>,
}

impl Dev {
    /// Fails when the template names a function the dev server cannot run, so that the two
    /// cannot drift apart silently.
    pub fn new(app: AppState, routes: RouteTable, moto_endpoint: String) -> anyhow::Result<Self> {
        let mut handlers = HashMap::new();
        for route in routes.routes() {
            match handler_for(&route.binary) {
                Some(h) => {
                    handlers.insert(route.binary.clone(), h);
                }
                None => bail!(
                    "template.yaml routes {} to function {}, which the dev server does not know",
                    route.path,
                    route.binary
                ),
            }
        }
        Ok(Self {
            app,
            routes,
            handlers,
            moto_endpoint,
            dns: None,
        })
    }

    /// Serves `/_dev/dns` for the local DNS server's records.
    pub fn with_dns(mut self, records: crate::dns::Records) -> Self {
        self.dns = Some(records);
        self
    }
}

pub fn router(dev: Arc<Dev>) -> Router {
    Router::new()
        .route("/_dev/outbox", get(outbox_page))
        .route("/_dev/outbox.json", get(outbox_json))
        .route("/_dev/texts.json", get(texts_json))
        .route("/_dev/dns", get(dns_list).post(dns_set))
        .fallback(dispatch)
        .with_state(dev)
}

/// Lambda's request payload limit; API Gateway would refuse more before any function ran.
const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

async fn dispatch(
    State(dev): State<Arc<Dev>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    req: axum::extract::Request,
) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PAYLOAD).await else {
        return to_axum(
            ApiError::new(
                http::StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Request too large.",
            )
            .into_response(),
        );
    };
    let resolution = dev.routes.resolve(parts.method.as_str(), parts.uri.path());
    let resp = match resolution {
        // Functions read path and query parameters from the URI (as they do behind API
        // Gateway), so none are passed besides it.
        Resolution::Found {
            binary, authorizer, ..
        } => match dev.handlers.get(binary) {
            Some(handler) => {
                let lambda_req = Request::from_parts(parts, Body::from(bytes.to_vec()));
                // The connection's own peer, as API Gateway's `sourceIp`: a request from
                // 127.0.0.2 is seen as coming from 127.0.0.2, so per-address rules can be
                // tried locally.
                let source = peer.ip().to_string();
                let lambda_req = porter_shared::http::with_source_ip(lambda_req, &source);
                // A protected route: its authorizer first, as API Gateway runs it.
                match authorizer {
                    Some(a) => match crate::edge::authorize(&dev.app, a, lambda_req).await {
                        Ok(req) => handler(&dev.app, req).await,
                        Err(refused) => refused,
                    },
                    None => handler(&dev.app, lambda_req).await,
                }
            }
            None => ApiError::not_found().into_response(),
        },
        // API Gateway answers these itself, before any function runs.
        Resolution::MethodNotAllowed | Resolution::NotFound => {
            ApiError::not_found().into_response()
        }
    };
    to_axum(resp)
}

/// `POST /_dev/dns {name, values}`: publishes TXT records on the local DNS server (an empty
/// list removes the name). What `porterctl dev dns set` calls.
#[derive(serde::Deserialize)]
struct DnsRecord {
    name: String,
    #[serde(default)]
    values: Vec<String>,
}

fn no_dns() -> axum::response::Response {
    (
        http::StatusCode::CONFLICT,
        "the dev server runs no DNS server: PORTER_DNS_SERVERS named another one",
    )
        .into_response()
}

async fn dns_list(State(dev): State<Arc<Dev>>) -> axum::response::Response {
    match &dev.dns {
        Some(records) => {
            let all = records.read().map(|r| r.clone()).unwrap_or_default();
            axum::Json(all).into_response()
        }
        None => no_dns(),
    }
}

async fn dns_set(
    State(dev): State<Arc<Dev>>,
    axum::Json(record): axum::Json<DnsRecord>,
) -> axum::response::Response {
    match &dev.dns {
        Some(records) => {
            crate::dns::set(records, &record.name, record.values);
            http::StatusCode::NO_CONTENT.into_response()
        }
        None => no_dns(),
    }
}

fn to_axum(resp: Response<Body>) -> axum::response::Response {
    let (parts, body) = resp.into_parts();
    let bytes = match body {
        Body::Text(s) => s.into_bytes(),
        Body::Binary(b) => b,
        _ => Vec::new(),
    };
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

async fn outbox_json(State(dev): State<Arc<Dev>>) -> axum::response::Response {
    match outbox::fetch(&dev.moto_endpoint).await {
        Ok(mut mails) => {
            mails.reverse();
            axum::Json(mails).into_response()
        }
        Err(e) => (http::StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

/// Text messages (SNS), newest first.
async fn texts_json(State(dev): State<Arc<Dev>>) -> axum::response::Response {
    match outbox::texts(&dev.moto_endpoint).await {
        Ok(mut texts) => {
            texts.reverse();
            axum::Json(texts).into_response()
        }
        Err(e) => (http::StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}

async fn outbox_page(State(dev): State<Arc<Dev>>) -> axum::response::Response {
    let mails = match outbox::fetch(&dev.moto_endpoint).await {
        Ok(m) => m,
        Err(e) => return (http::StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let texts = match outbox::texts(&dev.moto_endpoint).await {
        Ok(t) => t,
        Err(e) => return (http::StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    };
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=utf-8><title>Outbox</title>\
         <style>body{font-family:system-ui;margin:24px;max-width:900px}article{border:1px solid #ccc;\
         border-radius:8px;margin:16px 0;padding:12px}iframe{width:100%;height:420px;border:1px solid #eee}\
         dt{font-weight:600}</style></head><body><h1>Local outbox</h1>\
         <p>Emails sent through SES (moto), newest first. Nothing here left this machine.</p>",
    );
    html.push_str("<h2>Text messages</h2><p>Sent through SNS (moto), newest first.</p>");
    if texts.is_empty() {
        html.push_str("<p id=no-texts>No text message has been sent yet.</p>");
    }
    for t in texts.iter().rev() {
        html.push_str(&format!(
            "<article class=text><dl><dt>To</dt><dd class=to>{}</dd><dt>Message</dt><dd class=message>{}</dd></dl></article>",
            escape(&t.to),
            escape(&t.body),
        ));
    }
    html.push_str("<h2>Emails</h2>");
    if mails.is_empty() {
        html.push_str("<p id=empty>No email has been sent yet.</p>");
    }
    for m in mails.iter().rev() {
        html.push_str(&format!(
            "<article><dl><dt>To</dt><dd class=to>{}</dd><dt>From</dt><dd>{}</dd><dt>Subject</dt><dd class=subject>{}</dd></dl>\
             <iframe sandbox=\"allow-top-navigation-by-user-activation allow-popups\" srcdoc=\"{}\"></iframe></article>",
            escape(&m.to.join(", ")),
            escape(&m.from),
            escape(&m.subject),
            escape(&m.body),
        ));
    }
    html.push_str("</body></html>");
    Html(html).into_response()
}
