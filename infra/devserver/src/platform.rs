//! A vendor-platform stand-in on loopback (dev and tests only, never deployed): RFC 8414
//! metadata, a token endpoint that checks RFC 7523 client assertions as a real platform
//! would (signature by the key registered for the `kid`, `iss = sub = client_id`, `aud` = the
//! token endpoint, `exp - iat ≤ 300`, not expired, `jti` never seen before), and
//! `GET /api/v1/entitlements` for the access tokens it issued. Tests can make it misbehave.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::Router;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::RngCore;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the stand-in behaves.
#[derive(Clone, Debug, Default)]
pub enum Mode {
    #[default]
    Honest,
    /// The token endpoint refuses with this OAuth error and description.
    RefuseToken(String, String),
    /// Every answer comes after this long.
    Slow(Duration),
    /// The entitlements answer is not the contract.
    Malformed,
    /// The metadata names another issuer than the server it is fetched from.
    WrongIssuer,
}

struct Registered {
    client_id: String,
    key: DecodingKey,
    alg: Algorithm,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, Registered>,
    /// Trusted keys whose KID maps to no platform principal (the 1E model: non-interactive
    /// sign-in needs a JWT mapping to a user).
    unmapped: HashSet<String>,
    seen_jti: HashSet<String>,
    tokens: HashSet<String>,
    entitlements: Value,
    mode: Mode,
    /// Headers and claims of every assertion that passed, for tests to inspect.
    accepted: Vec<(Value, Value)>,
}

#[derive(Clone)]
pub struct PlatformStandIn {
    pub port: u16,
    inner: Arc<Mutex<Inner>>,
}

pub fn demo_entitlements() -> Value {
    json!({ "solutions": [
        { "id": "endpoint", "name": "Endpoint Management", "modules": [
            { "id": "inventory", "name": "Inventory" }, { "id": "patching", "name": "Patching" } ] },
        { "id": "experience", "name": "Digital Experience", "modules": [
            { "id": "sentiment", "name": "Sentiment" } ] },
    ] })
}

impl PlatformStandIn {
    pub async fn start() -> anyhow::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            entitlements: demo_entitlements(),
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let app = Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/oauth2/token", post(token))
            .route("/api/v1/entitlements", get(entitlements))
            .with_state(Shared {
                port,
                inner: inner.clone(),
            });
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { port, inner })
    }

    /// `host:port` as API management wants it.
    pub fn hostname(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn token_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/oauth2/token", self.port)
    }

    /// Registers the public key (PEM) the platform maps to `kid` for `client_id`.
    /// Removes the principal mapping of a trusted key: its assertions verify, but its token
    /// requests are refused as unmapped.
    pub fn unmap(&self, kid: &str) {
        self.lock().unmapped.insert(kid.to_owned());
    }

    pub fn trust(&self, kid: &str, client_id: &str, public_pem: &[u8]) -> anyhow::Result<()> {
        let (key, alg) = match DecodingKey::from_rsa_pem(public_pem) {
            Ok(k) => (k, Algorithm::RS256),
            Err(_) => (DecodingKey::from_ec_pem(public_pem)?, Algorithm::ES256),
        };
        self.lock().keys.insert(
            kid.to_owned(),
            Registered {
                client_id: client_id.to_owned(),
                key,
                alg,
            },
        );
        Ok(())
    }

    pub fn set_mode(&self, mode: Mode) {
        self.lock().mode = mode;
    }

    pub fn set_entitlements(&self, v: Value) {
        self.lock().entitlements = v;
    }

    /// (header, claims) of every assertion accepted so far.
    pub fn accepted(&self) -> Vec<(Value, Value)> {
        self.lock().accepted.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Clone)]
struct Shared {
    port: u16,
    inner: Arc<Mutex<Inner>>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn pace(&self) {
        let mode = self.lock().mode.clone();
        if let Mode::Slow(d) = mode {
            tokio::time::sleep(d).await;
        }
    }
}

async fn metadata(State(s): State<Shared>) -> Json<Value> {
    s.pace().await;
    let base = format!("http://127.0.0.1:{}", s.port);
    let wrong = matches!(s.lock().mode, Mode::WrongIssuer);
    Json(json!({
        "issuer": if wrong { "https://platform.evil.example".to_owned() } else { base.clone() },
        "token_endpoint": format!("{base}/oauth2/token"),
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
    }))
}

fn oauth_error(error: &str, description: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

fn b64_json(part: &str) -> Value {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

async fn token(State(s): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    s.pace().await;
    if let Mode::RefuseToken(error, description) = s.lock().mode.clone() {
        return oauth_error(&error, &description);
    }
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    if field("grant_type") != "client_credentials" {
        return oauth_error("unsupported_grant_type", "only client_credentials");
    }
    if field("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
        return oauth_error(
            "invalid_client",
            "a jwt-bearer client assertion is required",
        );
    }
    let assertion = field("client_assertion");
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return oauth_error("invalid_client", "the assertion is not a JWT");
    };
    let token_endpoint = format!("http://127.0.0.1:{}/oauth2/token", s.port);
    let mut inner = s.lock();
    let Some(reg) = header.kid.as_deref().and_then(|k| inner.keys.get(k)) else {
        return oauth_error("invalid_client", "unknown kid");
    };
    if header.alg != reg.alg {
        return oauth_error(
            "invalid_client",
            "the algorithm does not match the registered key",
        );
    }
    let mut v = Validation::new(reg.alg);
    v.set_audience(&[token_endpoint.as_str()]);
    v.set_issuer(&[reg.client_id.as_str()]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.sub = Some(reg.client_id.clone());
    v.leeway = 30;
    let claims = match jsonwebtoken::decode::<Value>(assertion, &reg.key, &v) {
        Ok(t) => t.claims,
        Err(e) => return oauth_error("invalid_client", &format!("the assertion was refused: {e}")),
    };
    if field("client_id") != reg.client_id {
        return oauth_error("invalid_client", "client_id does not match the assertion");
    }
    let (iat, exp) = (claims["iat"].as_i64(), claims["exp"].as_i64());
    if !matches!((iat, exp), (Some(i), Some(e)) if e - i <= 300) {
        return oauth_error(
            "invalid_client",
            "the assertion must live at most 300 seconds",
        );
    }
    let Some(jti) = claims["jti"].as_str().filter(|j| !j.is_empty()) else {
        return oauth_error("invalid_client", "the assertion has no jti");
    };
    if !inner.seen_jti.insert(jti.to_owned()) {
        return oauth_error(
            "invalid_client",
            "this assertion was used before (jti replayed)",
        );
    }
    let kid = header.kid.clone().unwrap_or_default();
    if inner.unmapped.contains(&kid) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "error": "unauthorized_client",
                "error_description": format!("no JWT principal mapping for kid {kid}"),
            })),
        )
            .into_response();
    }
    let header_json = b64_json(assertion.split('.').next().unwrap_or_default());
    inner.accepted.push((header_json, claims));
    let mut raw = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let access = hex::encode(raw);
    inner.tokens.insert(access.clone());
    Json(json!({ "access_token": access, "token_type": "Bearer", "expires_in": 300 }))
        .into_response()
}

async fn entitlements(State(s): State<Shared>, headers: HeaderMap) -> Response {
    s.pace().await;
    let inner = s.lock();
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !inner.tokens.contains(token) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_token" })),
        )
            .into_response();
    }
    if matches!(inner.mode, Mode::Malformed) {
        return Json(json!({ "licences": "everything" })).into_response();
    }
    Json(inner.entitlements.clone()).into_response()
}

/// The demo key material `make dev` writes under `.porter/platform/` for people to paste into
/// API management: an encrypted PKCS#8 RSA key, its password, and a self-signed certificate.
pub struct DemoKey {
    pub kid: &'static str,
    pub client_id: &'static str,
    pub private_key_pem: String,
    pub password: String,
    pub certificate_pem: String,
    pub public_pem: Vec<u8>,
}

pub fn demo_key() -> anyhow::Result<DemoKey> {
    use openssl::asn1::Asn1Time;
    use openssl::hash::MessageDigest;
    use openssl::pkey::PKey;
    use openssl::rsa::Rsa;
    use openssl::symm::Cipher;
    use openssl::x509::{X509NameBuilder, X509};
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let mut pw = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut pw);
    let password = hex::encode(pw);
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", "demo-tenant.porter.test")?;
    name.append_entry_by_text("O", "Porter demo")?;
    let name = name.build();
    let mut cert = X509::builder()?;
    cert.set_version(2)?;
    cert.set_subject_name(&name)?;
    cert.set_issuer_name(&name)?;
    cert.set_pubkey(&key)?;
    let (from, until) = (Asn1Time::days_from_now(0)?, Asn1Time::days_from_now(365)?);
    cert.set_not_before(&from)?;
    cert.set_not_after(&until)?;
    cert.sign(&key, MessageDigest::sha256())?;
    Ok(DemoKey {
        kid: "demo-key-1",
        client_id: "demo-tenant",
        private_key_pem: String::from_utf8(
            key.private_key_to_pem_pkcs8_passphrase(Cipher::aes_256_cbc(), password.as_bytes())?,
        )?,
        certificate_pem: String::from_utf8(cert.build().to_pem()?)?,
        public_pem: key.public_key_to_pem()?,
        password,
    })
}
