//! An OpenID provider the tests control: a real HTTP server on loopback (discovery, JWKS,
//! token endpoint that checks the client secret and the PKCE verifier), signing ID tokens
//! with RSA keys made for the run, and willing to misbehave on request: wrong issuer or
//! audience, a foreign key, `alg: none`, HS256 keyed with its own public key, expired tokens,
//! rotated keys, answers without `iss`, an authorization endpoint that bounces the browser to
//! another provider (a mix-up); and it keeps every client secret it is sent. It also serves
//! an Entra ID-style directory under `/<directory>/v2.0`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "porter-test-client";
pub const CLIENT_SECRET: &str = "test-client-secret-not-a-real-one";

pub struct Key {
    pub kid: String,
    private_pem: Vec<u8>,
    public_pem: Vec<u8>,
    jwk: Value,
}

impl Key {
    pub fn generate(kid: &str) -> Self {
        let rsa = openssl::rsa::Rsa::generate(2048).unwrap();
        let n = URL_SAFE_NO_PAD.encode(rsa.n().to_vec());
        let e = URL_SAFE_NO_PAD.encode(rsa.e().to_vec());
        Self {
            kid: kid.to_owned(),
            private_pem: rsa.private_key_to_pem().unwrap(),
            public_pem: rsa.public_key_to_pem().unwrap(),
            jwk: json!({ "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": n, "e": e }),
        }
    }
}

/// How the next token is made.
#[derive(Clone, Default)]
pub enum Signing {
    #[default]
    Honest,
    /// Signed by a key the provider does not publish, under a published kid.
    ForeignKey,
    /// `alg: none`, no signature.
    None,
    /// HS256 with the published public key as the HMAC secret.
    Hs256WithPublicKey,
}

/// One signed-in person at the provider.
#[derive(Clone)]
pub struct Person {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
}

struct Grant {
    claims: Value,
    challenge: String,
    redirect_uri: String,
}

/// Changes the claims of a token before it is signed.
type Tamper = Arc<dyn Fn(&mut Value) + Send + Sync>;

#[derive(Default)]
struct Inner {
    keys: Vec<Key>,
    signing: Signing,
    tamper: Option<Tamper>,
    grants: HashMap<String, Grant>,
    discovery_override: Option<Value>,
    token_requests: usize,
    jwks_requests: usize,
    /// Answers without `iss`, as a provider that does not name itself (or an attacker's
    /// page pretending to be one) would.
    omit_iss: bool,
    /// Every client secret the token endpoint was sent, as a provider that logs them would.
    received_secrets: Vec<String>,
    /// An attacker's provider in a mix-up: its authorization endpoint sends the browser on to
    /// another provider's, with that provider's client id and redirect URI.
    bounce: Option<Bounce>,
}

#[derive(Clone)]
struct Bounce {
    authorization_endpoint: String,
    client_id: String,
    redirect_uri: String,
}

#[derive(Clone)]
pub struct FakeIdp {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeIdp {
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            keys: vec![Key::generate("key-1")],
            ..Inner::default()
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/authorize", get(authorize_endpoint))
            .route(
                "/{dir}/v2.0/.well-known/openid-configuration",
                get(entra_discovery),
            )
            .with_state(Shared {
                base: base.clone(),
                inner: inner.clone(),
            });
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, inner }
    }

    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.base)
    }

    pub fn entra_issuer(&self, directory: &str) -> String {
        format!("{}/{directory}/v2.0", self.base)
    }

    pub fn sign_with(&self, signing: Signing) {
        self.inner.lock().unwrap().signing = signing;
    }

    /// Changes the claims of every token from now on.
    pub fn tamper(&self, f: impl Fn(&mut Value) + Send + Sync + 'static) {
        self.inner.lock().unwrap().tamper = Some(Arc::new(f));
    }

    /// Replaces the discovery document (to test what configuring refuses).
    pub fn serve_discovery(&self, doc: Value) {
        self.inner.lock().unwrap().discovery_override = Some(doc);
    }

    /// A new signing key, published in place of the old one.
    pub fn rotate_keys(&self, kid: &str) {
        self.inner.lock().unwrap().keys = vec![Key::generate(kid)];
    }

    /// Changes the published form of every key (e.g. `use: enc`, another `alg`).
    pub fn mark_keys(&self, f: impl Fn(&mut Value)) {
        for key in &mut self.inner.lock().unwrap().keys {
            f(&mut key.jwk);
        }
    }

    /// How often the key set was fetched.
    pub fn jwks_requests(&self) -> usize {
        self.inner.lock().unwrap().jwks_requests
    }

    pub fn token_requests(&self) -> usize {
        self.inner.lock().unwrap().token_requests
    }

    /// Bounce every authorization request to `other` as the client `client_id` registered
    /// there with `redirect_uri` (a mix-up: the attacker's provider forwards the person to an
    /// honest one, keeping the state of the sign-in the victim started).
    pub fn bounce_to(&self, other: &FakeIdp, client_id: &str, redirect_uri: &str) {
        self.inner.lock().unwrap().bounce = Some(Bounce {
            authorization_endpoint: format!("{}/authorize", other.base),
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
        });
    }

    /// Answer without `iss` from now on.
    pub fn omit_iss(&self) {
        self.inner.lock().unwrap().omit_iss = true;
    }

    /// The client secrets the token endpoint received (Basic or form), in order.
    pub fn received_secrets(&self) -> Vec<String> {
        self.inner.lock().unwrap().received_secrets.clone()
    }

    /// The path of the redirect URI an authorization URL names (where the answer goes).
    pub fn callback_path(authorization_url: &str) -> String {
        let url = url::Url::parse(authorization_url).unwrap();
        let redirect = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .unwrap()
            .1
            .into_owned();
        url::Url::parse(&redirect).unwrap().path().to_owned()
    }

    /// What the provider does when a person signs in at the authorization URL: where the
    /// browser is sent back (the redirect URI's path with `code`, `state`, `iss`). `issuer`
    /// is the one the authorization went to (plain or Entra-style).
    pub fn authorize(
        &self,
        authorization_url: &str,
        issuer: &str,
        who: &Person,
        extra: Value,
    ) -> String {
        let url = url::Url::parse(authorization_url).unwrap();
        let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        let now = crate::now();
        let mut claims = json!({
            "iss": issuer, "sub": who.sub, "aud": q["client_id"], "exp": now + 300, "iat": now,
            "nonce": q["nonce"], "email": who.email, "email_verified": who.email_verified,
        });
        if let (Value::Object(c), Value::Object(e)) = (&mut claims, extra) {
            c.extend(e);
        }
        let code = format!("code-{}", rand::random::<u64>());
        let mut inner = self.inner.lock().unwrap();
        inner.grants.insert(
            code.clone(),
            Grant {
                claims,
                challenge: q["code_challenge"].clone(),
                redirect_uri: q["redirect_uri"].clone(),
            },
        );
        let mut back = url::form_urlencoded::Serializer::new(String::new());
        back.append_pair("code", &code)
            .append_pair("state", &q["state"]);
        if !inner.omit_iss {
            back.append_pair("iss", issuer);
        }
        format!(
            "{}?{}",
            Self::callback_path(authorization_url),
            back.finish()
        )
    }
}

#[derive(Clone)]
struct Shared {
    base: String,
    inner: Arc<Mutex<Inner>>,
}

fn discovery_doc(base: &str, issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "subject_types_supported": ["public"],
        "authorization_response_iss_parameter_supported": true,
    })
}

async fn discovery(State(s): State<Shared>) -> Json<Value> {
    let over = s.inner.lock().unwrap().discovery_override.clone();
    Json(over.unwrap_or_else(|| discovery_doc(&s.base, &s.base)))
}

async fn entra_discovery(State(s): State<Shared>, Path(dir): Path<String>) -> Json<Value> {
    Json(discovery_doc(&s.base, &format!("{}/{dir}/v2.0", s.base)))
}

async fn jwks(State(s): State<Shared>) -> Json<Value> {
    let mut inner = s.inner.lock().unwrap();
    inner.jwks_requests += 1;
    let keys: Vec<Value> = inner.keys.iter().map(|k| k.jwk.clone()).collect();
    Json(json!({ "keys": keys }))
}

/// The authorization endpoint as a browser meets it: only a bouncing provider answers (with a
/// redirect to the other provider); the others' sign-ins are driven by [`FakeIdp::authorize`].
async fn authorize_endpoint(
    State(s): State<Shared>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> axum::response::Response {
    let Some(bounce) = s.inner.lock().unwrap().bounce.clone() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let query = query.unwrap_or_default();
    let pairs = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .map(|(k, v)| match k.as_str() {
            "client_id" => (k, bounce.client_id.clone()),
            "redirect_uri" => (k, bounce.redirect_uri.clone()),
            _ => (k, v),
        });
    let forwarded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let location = format!("{}?{forwarded}", bounce.authorization_endpoint);
    (StatusCode::FOUND, [("location", location)]).into_response()
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> impl IntoResponse {
    let mut inner = s.inner.lock().unwrap();
    inner.token_requests += 1;
    let basic_secret = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok()?.strip_prefix("Basic ").map(str::to_owned))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| pair.split_once(':').map(|(_, secret)| secret.to_owned()));
    let form_secret = form.get("client_secret").cloned();
    inner
        .received_secrets
        .extend(basic_secret.into_iter().chain(form_secret));
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let basic_ok = headers
        .get("authorization")
        .is_some_and(|v| v.to_str().unwrap_or_default() == expected);
    let post_ok = form.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && form.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET);
    if !basic_ok && !post_ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({ "error": "invalid_client" })),
        );
    }
    let Some(grant) = form.get("code").and_then(|c| inner.grants.remove(c)) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant" })),
        );
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant", "error_description": "redirect_uri" })),
        );
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) != grant.challenge {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_grant", "error_description": "PKCE" })),
        );
    }
    let mut claims = grant.claims;
    if let Some(t) = &inner.tamper {
        t(&mut claims);
    }
    let key = &inner.keys[0];
    let id_token = match inner.signing {
        Signing::Honest => {
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some(key.kid.clone());
            jsonwebtoken::encode(
                &h,
                &claims,
                &EncodingKey::from_rsa_pem(&key.private_pem).unwrap(),
            )
            .unwrap()
        }
        Signing::ForeignKey => {
            let other = Key::generate(&key.kid);
            let mut h = Header::new(Algorithm::RS256);
            h.kid = Some(key.kid.clone());
            jsonwebtoken::encode(
                &h,
                &claims,
                &EncodingKey::from_rsa_pem(&other.private_pem).unwrap(),
            )
            .unwrap()
        }
        Signing::None => format!(
            "{}.{}.",
            b64(&json!({ "alg": "none", "kid": key.kid })),
            b64(&claims)
        ),
        Signing::Hs256WithPublicKey => {
            let mut h = Header::new(Algorithm::HS256);
            h.kid = Some(key.kid.clone());
            jsonwebtoken::encode(
                &h,
                &claims,
                &EncodingKey::from_secret(&key.public_pem).unwrap(),
            )
            .unwrap()
        }
    };
    (
        StatusCode::OK,
        Json(
            json!({ "access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }),
        ),
    )
}
