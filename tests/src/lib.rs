//! `TestApp`: what an integration test needs, made of real parts. One moto server per test
//! binary (started on first use, on a free loopback port, serving one request at a time);
//! one fresh table per test, so tests run in parallel without seeing each other's items.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod idp;
pub mod passkey;

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::{Body, Request, Response};
use porter_dev::moto::Moto;
use porter_dev::outbox::{self, SentMail};
use porter_dev::stack;
use porter_shared::domain::{Email, Timestamp};
use porter_shared::tenants::{self, Registration};
use porter_shared::AppState;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

pub const BASE_URL: &str = "http://localhost:3000";

static MOTO: OnceLock<Moto> = OnceLock::new();
static TABLES: AtomicU32 = AtomicU32::new(0);

pub fn moto_endpoint() -> String {
    MOTO.get_or_init(|| Moto::start(0).expect("starting moto (run `make venv` first)"))
        .endpoint()
}

pub type Item = HashMap<String, AttributeValue>;

/// What a client saw.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub json: Value,
    pub headers: http::HeaderMap,
    /// The body as text (for answers that are not JSON, e.g. CSV).
    pub text: String,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }
}

pub struct TestApp {
    pub state: AppState,
    pub moto: String,
    /// A DNS server on loopback that domain verification asks (`PORTER_DNS_SERVERS`).
    pub dns: std::sync::Arc<porter_dev::dns::DevDns>,
    n: u32,
    /// Told the function (its binary's name) after each request it served, and `mailer` after
    /// the mail queue was drained.
    observer: Option<Observer>,
}

/// What a [`TestApp`] tells after each function it ran.
pub type Observer = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// A TestApp whose configuration is edited first (e.g. the Entra ID authority).
    pub async fn spawn_with(edit: impl FnOnce(&mut porter_shared::Config)) -> Self {
        let moto = moto_endpoint();
        let n = TABLES.fetch_add(1, Ordering::SeqCst);
        let table = format!("porter-test-{}-{n}", std::process::id());
        let mut config = stack::local_config(&table, BASE_URL).unwrap();
        let dns = std::sync::Arc::new(porter_dev::dns::DevDns::start(0).await.unwrap());
        config.dns_servers = vec![dns.addr];
        let breached = porter_dev::breached::BreachedStandIn::start()
            .await
            .unwrap();
        config.breached_passwords_url = breached.url();
        edit(&mut config);
        let state = stack::prepare(&moto, config).await.unwrap();
        Self {
            state,
            moto,
            dns,
            n,
            observer: None,
        }
    }

    /// An address no other test uses: the outbox is shared by every test of the binary.
    pub fn address(&self, local: &str) -> String {
        format!("{local}@acme-{}-{}.test", std::process::id(), self.n)
    }

    /// The same stack, seen through another configuration (e.g. an unverified sender).
    pub fn with_config(&self, edit: impl FnOnce(&mut porter_shared::Config)) -> AppState {
        let mut config = self.state.config.clone();
        edit(&mut config);
        AppState::from_sdk_config(config, &stack::sdk_config(&self.moto)).unwrap()
    }

    pub async fn register(&self, name: &str, admin: &str) -> Registration {
        tenants::register_tenant(
            &self.state,
            name,
            &Email::parse(admin).unwrap(),
            None,
            Timestamp::now(),
        )
        .await
        .unwrap()
    }

    pub async fn outbox(&self, to: &str) -> Vec<SentMail> {
        outbox::to(&self.moto, to).await.unwrap()
    }

    /// The PIN in the newest sign-in code email to `to`.
    pub async fn pin_from_outbox(&self, to: &str) -> Option<String> {
        let mail = self
            .outbox(to)
            .await
            .into_iter()
            .rev()
            .find(|m| m.subject.contains("sign-in code"))?;
        let digits: String = mail
            .body
            .split("letter-spacing:4px;font-family:monospace\">")
            .nth(1)?
            .chars()
            .take_while(|c| *c != '<')
            .filter(char::is_ascii_digit)
            .collect();
        Some(digits)
    }

    /// The token of the newest activation link emailed to `to`.
    pub async fn last_activation_token(&self, to: &str) -> String {
        let mails = self.outbox(to).await;
        let link = mails
            .last()
            .and_then(|m| m.link_to("/activate?token="))
            .unwrap_or_else(|| panic!("no activation email to {to}: {mails:?}"));
        assert!(
            link.starts_with(&format!("{BASE_URL}/activate?token=")),
            "{link}"
        );
        link.rsplit('=').next().unwrap().to_owned()
    }

    /// Text messages sent to `number` (E.164), oldest first.
    pub async fn texts_to(&self, number: &str) -> Vec<porter_dev::outbox::SentText> {
        porter_dev::outbox::texts(&self.moto)
            .await
            .unwrap()
            .into_iter()
            .filter(|t| t.to == number)
            .collect()
    }

    pub async fn item(&self, pk: String, sk: &str) -> Option<Item> {
        self.state.store.get_raw(pk, sk).await.unwrap()
    }

    /// Every item of the table (tests' tables are tiny).
    pub async fn scan(&self) -> Vec<Item> {
        self.state.store.scan_all().await.unwrap()
    }

    /// Sets attributes of an item directly, to put it in a state only time would produce.
    pub async fn set_numbers(&self, pk: String, sk: &str, values: &[(&str, i64)]) {
        self.state.store.set_numbers(pk, sk, values).await.unwrap();
    }
}

/// A request as API Gateway would hand it to a function.
pub fn request(
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request {
    let mut b = http::Request::builder()
        .method(method)
        .uri(format!("{BASE_URL}{path}"));
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    porter_shared::http::with_source_ip(b.body(body.into()).unwrap(), SOURCE_IP)
}

/// The address API Gateway reports for the tests' requests (a documentation range).
pub const SOURCE_IP: &str = "203.0.113.7";

pub fn json_request(path: &str, body: &Value) -> Request {
    request("POST", path, Some("application/json"), body.to_string())
}

pub fn answer(resp: Response<Body>) -> Answer {
    let (parts, body) = resp.into_parts();
    let bytes: &[u8] = body.as_ref();
    Answer {
        status: parts.status.as_u16(),
        json: serde_json::from_slice(bytes).unwrap_or(Value::Null),
        headers: parts.headers,
        text: String::from_utf8_lossy(bytes).into_owned(),
    }
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

pub fn get_bool(item: &Item, name: &str) -> Option<bool> {
    item.get(name).and_then(|v| v.as_bool().ok()).copied()
}

/// A browser's view of Porter: requests go through the routes of template.yaml to the
/// function that serves them, and the session cookie is kept like a browser keeps it.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
    pub last_set_cookie: Option<String>,
    /// The cookie that binds a single sign-on to this browser, while one is in flight.
    pub sso_cookie: Option<String>,
    /// The device cookie a full sign-in left this browser.
    pub device_cookie: Option<String>,
    /// The address API Gateway reports for this browser's requests.
    pub source_ip: String,
}

impl TestApp {
    pub fn browser(&self) -> Browser<'_> {
        self.browser_at(SOURCE_IP)
    }

    /// A browser whose requests come from `source_ip`.
    pub fn browser_at(&self, source_ip: &str) -> Browser<'_> {
        Browser {
            app: self,
            cookie: None,
            last_set_cookie: None,
            sso_cookie: None,
            device_cookie: None,
            source_ip: source_ip.to_owned(),
        }
    }

    /// Sends a request to the function template.yaml routes it to.
    pub async fn send(&self, req: Request) -> Response<Body> {
        use porter_dev::routes::{Resolution, RouteTable};
        static ROUTES: OnceLock<RouteTable> = OnceLock::new();
        let routes = ROUTES.get_or_init(|| {
            let yaml = std::fs::read_to_string(porter_dev::moto::repo_root().join("template.yaml"))
                .unwrap();
            RouteTable::from_template(&yaml).unwrap()
        });
        match routes.resolve(req.method().as_str(), req.uri().path()) {
            Resolution::Found {
                binary, authorizer, ..
            } => {
                let handler = porter_dev::server::handler_for(binary).unwrap();
                let tell = |function: &str| {
                    if let Some(o) = &self.observer {
                        o(function);
                    }
                };
                // A protected route: its authorizer first, as API Gateway runs it.
                let req = match authorizer {
                    Some(a) => {
                        let allowed =
                            Box::pin(porter_dev::edge::authorize(&self.state, a, req)).await;
                        tell(a);
                        match allowed {
                            Ok(req) => req,
                            Err(refused) => return refused,
                        }
                    }
                    None => req,
                };
                let response = handler(&self.state, req).await;
                tell(binary);
                // The mail it queued (its answer: 202) is sent before the test looks, as the
                // `mailer` would.
                if binary == "login" && response.status() == http::StatusCode::ACCEPTED {
                    porter_dev::mailer::drain(&self.state).await;
                    tell("mailer");
                }
                response
            }
            other => panic!(
                "no route for {} {}: {other:?}",
                req.method(),
                req.uri().path()
            ),
        }
    }

    /// Registers a tenant and activates its admin with `password`.
    pub async fn active_admin(&self, email: &str, password: &str) -> Registration {
        let reg = self.register("Acme", email).await;
        let token = self.last_activation_token(email).await;
        let body = serde_json::json!({ "token": token, "password": password, "password_confirm": password });
        let a = answer(self.send(json_request("/api/activation", &body)).await);
        assert_eq!(a.status, 200, "{:?}", a.json);
        reg
    }
}

impl Browser<'_> {
    pub async fn send(&mut self, mut req: Request) -> Answer {
        let jar: Vec<&str> = self
            .cookie
            .iter()
            .chain(self.sso_cookie.iter())
            .chain(self.device_cookie.iter())
            .map(String::as_str)
            .collect();
        if !jar.is_empty() {
            req.headers_mut()
                .insert("cookie", jar.join("; ").parse().unwrap());
        }
        let mut req = porter_shared::http::with_source_ip(req, &self.source_ip);
        // What a browser says of its own requests (Fetch Metadata).
        req.headers_mut()
            .entry("sec-fetch-site")
            .or_insert_with(|| "same-origin".parse().unwrap());
        // On the heap: a test awaits many of these, and in a debug build each would otherwise
        // take its room in the test's own future (and stack).
        let a = answer(Box::pin(self.app.send(req)).await);
        for set in a.headers.get_all("set-cookie") {
            let set = set.to_str().unwrap().to_owned();
            let pair = set.split(';').next().unwrap().to_owned();
            let kept = (!pair.ends_with('=')).then_some(pair.clone());
            // The single sign-on binding cookie is kept beside the session cookie.
            if pair.starts_with("porter_sso=") || pair.starts_with("__Host-porter_sso=") {
                self.sso_cookie = kept;
            } else if pair.starts_with("porter_device=")
                || pair.starts_with("__Host-porter_device=")
            {
                self.device_cookie = kept;
            } else {
                self.last_set_cookie = Some(set);
                self.cookie = kept;
            }
        }
        a
    }

    pub async fn post(&mut self, path: &str, body: Value) -> Answer {
        self.send(json_request(path, &body)).await
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        self.send(request("GET", path, None, "")).await
    }

    /// Email and password; returns the answer of the password step.
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Answer {
        let id = self
            .post("/api/login/identify", serde_json::json!({ "email": email }))
            .await;
        assert_eq!(id.json["next"], "password", "{:?}", id.json);
        self.post(
            "/api/login/password",
            serde_json::json!({ "email": email, "password": password }),
        )
        .await
    }
}

/// A TOTP code computed by an independent implementation (Debian's `oathtool`).
pub fn oathtool(secret_base32: &str, at: i64) -> String {
    let out = std::process::Command::new("oathtool")
        .args(["--totp", "-b", "-N", &format!("@{at}"), secret_base32])
        .output()
        .expect("oathtool is installed (make deps)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

pub fn now() -> i64 {
    Timestamp::now().0
}

pub const PASSWORD: &str = "tangerine orbit kettle 94";

impl Browser<'_> {
    /// Signs in with `PASSWORD` and enrols TOTP; returns the base32 secret and recovery codes.
    pub async fn enrol_totp(&mut self, email: &str) -> (String, Vec<String>) {
        let a = self.sign_in(email, PASSWORD).await;
        assert_eq!(
            (a.status, a.json["next"].as_str()),
            (200, Some("mfa_enroll")),
            "{:?}",
            a.json
        );
        self.enrol_totp_after_first_factor().await
    }

    /// Enrols an authenticator app with the password-level session this browser holds.
    pub async fn enrol_totp_after_first_factor(&mut self) -> (String, Vec<String>) {
        let start = self.post("/api/mfa/totp", serde_json::json!({})).await;
        assert_eq!(start.status, 200, "{:?}", start.json);
        let secret = start.json["secret"].as_str().unwrap().to_owned();
        let done = self
            .post(
                "/api/mfa/totp/confirm",
                serde_json::json!({ "code": oathtool(&secret, now()) }),
            )
            .await;
        assert_eq!(done.status, 200, "{:?}", done.json);
        let codes = done.json["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (secret, codes)
    }

    /// Adds a user through `POST /api/users`; returns the new id.
    pub async fn add_user(&mut self, email: &str, role: &str) -> String {
        let a = self
            .post(
                "/api/users",
                serde_json::json!({ "email": email, "role": role }),
            )
            .await;
        assert_eq!(a.status, 201, "{:?}", a.json);
        a.json["id"].as_str().unwrap().to_owned()
    }

    pub async fn patch(&mut self, path: &str, body: Value) -> Answer {
        self.send(request(
            "PATCH",
            path,
            Some("application/json"),
            body.to_string(),
        ))
        .await
    }

    /// The actions of the newest audit events this (admin) browser can read.
    pub async fn audit_actions(&mut self) -> Vec<String> {
        let audit = self.get("/api/audit?limit=100").await;
        audit.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn put(&mut self, path: &str, body: Value) -> Answer {
        self.send(request(
            "PUT",
            path,
            Some("application/json"),
            body.to_string(),
        ))
        .await
    }

    pub async fn delete(&mut self, path: &str) -> Answer {
        self.send(request("DELETE", path, None, "")).await
    }

    /// The key of this browser's session item.
    pub fn session_pk(&self) -> String {
        let cookie = self.cookie.as_deref().expect("signed in");
        let (_, id) = cookie.split_once('=').unwrap();
        let presented = porter_shared::domain::PresentedSession::parse(id).unwrap();
        porter_shared::store::keys::session_pk(&presented.hash)
    }

    /// "Forgot password" for `email` from this browser, then the emailed link's reset to
    /// `new_password`, as its owner would.
    pub async fn reset_password_by_mail(&mut self, email: &str, new_password: &str) {
        self.post(
            "/api/password/forgot",
            serde_json::json!({ "email": email }),
        )
        .await;
        let mail = self.app.outbox(email).await.pop().unwrap();
        let link = mail.link_to("/reset?token=").unwrap();
        let token = link.rsplit('=').next().unwrap();
        let body = serde_json::json!({ "token": token, "password": new_password, "password_confirm": new_password });
        let reset = self.post("/api/password/reset", body).await;
        assert_eq!(reset.status, 200, "{:?}", reset.json);
    }

    /// Makes this session's last proof of the second factor `secs` old (as time would).
    pub async fn age_proof(&self, secs: i64) {
        self.app
            .set_numbers(
                self.session_pk(),
                porter_shared::store::keys::SESSION_SK,
                &[("proved_at", now() - secs)],
            )
            .await;
    }
}

impl Browser<'_> {
    /// Adds `domain` to the admin's organisation, publishes its challenge on the test DNS
    /// server and verifies it, as an admin would.
    pub async fn verify_domain(&mut self, domain: &str) {
        let added = self
            .post(
                "/api/config/sso/domains",
                serde_json::json!({ "domain": domain }),
            )
            .await;
        assert!(matches!(added.status, 200 | 201), "{:?}", added.json);
        let value = added.json["txt_value"].as_str().unwrap().to_owned();
        let verified = self.publish_and_verify(domain, &value).await;
        assert_eq!(
            (verified.status, verified.json["status"].as_str()),
            (200, Some("verified")),
            "{:?}",
            verified.json
        );
    }
}

impl Browser<'_> {
    /// Publishes `value` at `_porter-challenge.<domain>` on the test DNS server and asks to
    /// verify the domain; the answer.
    pub async fn publish_and_verify(&mut self, domain: &str, value: &str) -> Answer {
        let name = format!("_porter-challenge.{domain}");
        self.app.dns.set_txt(&name, vec![value.to_owned()]);
        self.post(
            &format!("/api/config/sso/domains/{domain}/verify"),
            serde_json::json!({}),
        )
        .await
    }
}

impl TestApp {
    /// Activates `email` from the newest invitation in the outbox.
    pub async fn activate(&self, email: &str) {
        let token = self.last_activation_token(email).await;
        let body = serde_json::json!({ "token": token, "password": PASSWORD, "password_confirm": PASSWORD });
        let a = answer(self.send(json_request("/api/activation", &body)).await);
        assert_eq!(a.status, 200, "{:?}", a.json);
    }

    /// A tenant whose admin is active, enrolled, signed in and past the setup step.
    pub async fn ready_admin(&self, email: &str) -> (Registration, Browser<'_>) {
        let reg = self.active_admin(email, PASSWORD).await;
        let mut b = self.browser();
        b.enrol_totp(email).await;
        let s = b
            .post(
                "/api/setup",
                serde_json::json!({ "organisation_name": "Acme Ltd" }),
            )
            .await;
        assert_eq!(s.status, 200, "{:?}", s.json);
        (reg, b)
    }

    /// An added user who activated and enrolled: signed in, full session.
    pub async fn ready_member(&self, email: &str) -> Browser<'_> {
        self.activate(email).await;
        let mut b = self.browser();
        b.enrol_totp(email).await;
        b
    }
}

/// A loopback reverse proxy in front of moto that can be switched off: AWS answers 503 (as a
/// service that is down does) once the request budget is spent. Moto keeps its state, so a
/// test can look at what an interrupted flow left behind.
pub struct Outage {
    pub url: String,
    budget: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// The AWS requests that went through, in the order they arrived.
    seen: std::sync::Arc<std::sync::Mutex<Vec<Call>>>,
    /// The DynamoDB items (table, partition key) those requests named.
    pub keys: KeyLog,
}

/// (table, partition key) pairs a proxy saw requests name; a query names its table (with
/// `/index/<name>` for an index) and the partition it queried.
pub type KeyLog = std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>;

/// The items a DynamoDB request (JSON) names, under `table` (its `TableName` when it has one).
fn named_keys(v: &serde_json::Value, table: Option<&str>, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let Value::Object(o) = v else {
        if let Value::Array(a) = v {
            for x in a {
                named_keys(x, table, out);
            }
        }
        return;
    };
    let mut table = o
        .get("TableName")
        .and_then(Value::as_str)
        .or(table)
        .map(str::to_owned);
    if let (Some(t), Some(index)) = (&table, o.get("IndexName").and_then(Value::as_str)) {
        table = Some(format!("{t}/index/{index}"));
    }
    let t = table.as_deref();
    let pk = |item: &Value| item["pk"]["S"].as_str().map(str::to_owned);
    for field in ["Key", "Item"] {
        if let (Some(t), Some(p)) = (t, o.get(field).and_then(pk)) {
            out.push((t.to_owned(), p));
        }
    }
    if let (Some(t), Some(Value::Array(keys))) = (t, o.get("Keys")) {
        out.extend(keys.iter().filter_map(pk).map(|p| (t.to_owned(), p)));
    }
    if let (Some(t), Some(cond)) = (t, o.get("KeyConditionExpression").and_then(Value::as_str)) {
        let placeholder = cond.split_whitespace().nth(2).unwrap_or_default();
        let value = o["ExpressionAttributeValues"][placeholder]["S"].as_str();
        out.extend(value.map(|p| (t.to_owned(), p.to_owned())));
    }
    if let Some(Value::Object(items)) = o.get("RequestItems") {
        for (name, x) in items {
            named_keys(x, Some(name), out);
        }
    }
    for (k, x) in o {
        if !matches!(k.as_str(), "RequestItems" | "Key" | "Item" | "Keys") {
            named_keys(x, t, out);
        }
    }
}

/// One AWS request seen by an [`Outage`] proxy: its operation (`DynamoDB_20120810.GetItem`…),
/// when it arrived and when its answer left.
#[derive(Debug, Clone)]
pub struct Call {
    pub operation: String,
    pub start: std::time::Instant,
    pub end: std::time::Instant,
}

/// DynamoDB requests of one step: how many, and how many rounds one after the other (a
/// request that starts before every earlier one has answered runs beside them).
#[derive(Debug)]
pub struct Trips {
    pub operations: Vec<String>,
    pub rounds: Vec<Vec<String>>,
}

impl Trips {
    fn of(mut calls: Vec<Call>) -> Self {
        calls.sort_by_key(|c| c.start);
        let mut rounds: Vec<Vec<String>> = Vec::new();
        let mut round_end: Option<std::time::Instant> = None;
        for c in &calls {
            match round_end {
                Some(end) if c.start < end => {
                    rounds.last_mut().unwrap().push(c.operation.clone());
                    round_end = Some(end.max(c.end));
                }
                _ => {
                    rounds.push(vec![c.operation.clone()]);
                    round_end = Some(c.end);
                }
            }
        }
        Self {
            operations: calls.into_iter().map(|c| c.operation).collect(),
            rounds,
        }
    }
}

impl Outage {
    /// Unlimited requests until told otherwise.
    pub async fn start(target: &str) -> Self {
        use std::sync::atomic::AtomicI64;
        let budget = std::sync::Arc::new(AtomicI64::new(-1));
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let keys: KeyLog = std::sync::Arc::default();
        let key_log = keys.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (target, left) = (target.to_owned(), budget.clone());
        porter_shared::outbound::use_sdk_tls_provider();
        let client = reqwest::Client::new();
        let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
            let (target, left, client) = (target.clone(), left.clone(), client.clone());
            let operation = req
                .headers()
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("other")
                .to_owned();
            let log = log.clone();
            let key_log = key_log.clone();
            async move {
                let start = std::time::Instant::now();
                let (parts, body) = req.into_parts();
                let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                if operation.starts_with("DynamoDB_") {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                        named_keys(&v, None, &mut key_log.lock().unwrap());
                    }
                }
                let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
                let answer = forward(&client, &target, &left, req).await;
                let end = std::time::Instant::now();
                log.lock().unwrap().push(Call {
                    operation,
                    start,
                    end,
                });
                answer
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            budget,
            seen,
            keys,
        }
    }

    /// The DynamoDB requests seen since the last call, by operation (`GetItem`, …) and in
    /// rounds.
    pub fn take_dynamodb(&self) -> Trips {
        self.take_split().0
    }

    /// Every request seen since the last call: DynamoDB's in rounds, and the other services'
    /// by their target (`secretsmanager.GetSecretValue`, …).
    pub fn take_split(&self) -> (Trips, Vec<String>) {
        let mut others = Vec::new();
        let calls = std::mem::take(&mut *self.seen.lock().unwrap())
            .into_iter()
            .filter_map(|c| match c.operation.strip_prefix("DynamoDB_20120810.") {
                Some(op) => Some(Call {
                    operation: op.to_owned(),
                    ..c
                }),
                None => {
                    others.push(c.operation);
                    None
                }
            })
            .collect();
        (Trips::of(calls), others)
    }

    /// Lets `n` more requests through, then fails every one.
    pub fn allow(&self, n: i64) {
        self.budget.store(n, Ordering::SeqCst);
    }

    pub fn down(&self) {
        self.allow(0);
    }

    pub fn up(&self) {
        self.allow(-1);
    }
}

async fn forward(
    client: &reqwest::Client,
    target: &str,
    budget: &std::sync::atomic::AtomicI64,
    req: axum::extract::Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let allowed = budget
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| match b {
            0 => None,
            b if b < 0 => Some(b),
            b => Some(b - 1),
        })
        .is_ok();
    if !allowed {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "{\"__type\":\"ServiceUnavailable\",\"message\":\"down for the test\"}",
        )
            .into_response();
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let uri = format!(
        "{target}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let mut out = client.request(parts.method, uri).body(bytes);
    for (k, v) in &parts.headers {
        if k != http::header::HOST {
            out = out.header(k, v);
        }
    }
    match out.send().await {
        Ok(resp) => {
            let status = resp.status();
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            let mut r = (status, body).into_response();
            for (k, v) in &headers {
                if k != http::header::CONTENT_LENGTH && k != http::header::TRANSFER_ENCODING {
                    r.headers_mut().insert(k, v.clone());
                }
            }
            r
        }
        Err(_) => axum::http::StatusCode::BAD_GATEWAY.into_response(),
    }
}

impl TestApp {
    /// The same tables, reached through `endpoint` (an [`Outage`] proxy, a stalling server).
    pub fn through(&self, endpoint: &str) -> TestApp {
        TestApp {
            state: AppState::from_sdk_config(
                self.state.config.clone(),
                &stack::sdk_config(endpoint),
            )
            .unwrap(),
            moto: self.moto.clone(),
            dns: self.dns.clone(),
            n: self.n,
            observer: None,
        }
    }

    /// This stack, telling `observer` which function ran after each one.
    pub fn observed(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }
}

/// A log sink for `tracing_subscriber`'s writer (the shared crate's, which its own tests use).
pub use porter_shared::telemetry::CapturedLog;
