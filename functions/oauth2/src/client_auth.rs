//! The token endpoint's request: a form whose parameters appear once, and who the client
//! says it is (RFC 6749 §2.3.1: HTTP Basic, or `client_id`/`client_secret` in the form, or
//! `client_id` alone for a public client), and the errors of RFC 6749 §5.2.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use lambda_http::http::{header, HeaderValue, StatusCode};
use porter_shared::domain::oauth::{single_params, ClientRecord};
use porter_shared::domain::ClientId;
use porter_shared::http::{json, Body, Request, Response};
use serde_json::json;
use std::collections::BTreeMap;

/// An OAuth error answer: `{error, error_description}`.
#[derive(Debug)]
pub struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
    /// The client tried HTTP Basic: a 401 names the scheme (RFC 6749 §5.2).
    pub basic: bool,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic: false,
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new("invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new("invalid_grant", description)
    }

    /// Unknown client, wrong secret, or the wrong way of authenticating: one answer for all.
    pub fn invalid_client(basic: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description: "The client could not be authenticated.".into(),
            basic,
        }
    }

    pub fn unavailable() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            ..Self::new(
                "temporarily_unavailable",
                "The service is temporarily unavailable. Please try again in a moment.",
            )
        }
    }

    pub fn into_response(self) -> Response<Body> {
        let mut resp = json(
            self.status,
            &json!({ "error": self.error, "error_description": self.description }),
        );
        if self.status == StatusCode::UNAUTHORIZED && self.basic {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"porter\""),
            );
        }
        resp
    }
}

impl From<porter_shared::store::StoreError> for OAuthError {
    fn from(e: porter_shared::store::StoreError) -> Self {
        tracing::error!(error = %e, "storage request failed");
        Self::unavailable()
    }
}

/// The form's parameters, each at most once.
pub fn form(req: &Request) -> Result<BTreeMap<String, String>, OAuthError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let body = std::str::from_utf8(req.body().as_ref())
        .map_err(|_| OAuthError::invalid_request("The body is not UTF-8."))?;
    single_params(body)
        .map_err(|_| OAuthError::invalid_request("A parameter appears more than once."))
}

/// Who the client says it is: its id, the secret it presented (if any) and whether it used
/// HTTP Basic.
pub struct Claimed {
    pub id: ClientId,
    pub secret: Option<String>,
    pub basic: bool,
}

/// Percent-decoding of one form-encoded value (RFC 6749 §2.3.1 encodes Basic's parts so).
fn form_decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("v={raw}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

pub fn claimed(req: &Request, form: &BTreeMap<String, String>) -> Result<Claimed, OAuthError> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    let (id, secret, basic) = match basic {
        Some(encoded) => {
            if form.contains_key("client_secret") {
                return Err(OAuthError::invalid_request(
                    "Authenticate the client one way only.",
                ));
            }
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| OAuthError::invalid_client(true))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::invalid_client(true))?;
            let id = form_decoded(id);
            if form.get("client_id").is_some_and(|f| *f != id) {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the authenticated client.",
                ));
            }
            (id, Some(form_decoded(secret)), true)
        }
        None => {
            let id = form
                .get("client_id")
                .cloned()
                .ok_or_else(|| OAuthError::invalid_client(false))?;
            (id, form.get("client_secret").cloned(), false)
        }
    };
    let id = ClientId::parse(&id).ok_or_else(|| OAuthError::invalid_client(basic))?;
    Ok(Claimed { id, secret, basic })
}

impl Claimed {
    /// The client, if it is the one registered under the id and proved what it must: a
    /// confidential client its secret, a public client nothing (and no secret).
    pub fn verify(&self, client: Option<ClientRecord>) -> Result<ClientRecord, OAuthError> {
        let client = client.ok_or_else(|| OAuthError::invalid_client(self.basic))?;
        let proved = match (&self.secret, client.is_public()) {
            (None, true) => true,
            (Some(s), false) => client.secret_is(s),
            _ => false,
        };
        if proved {
            Ok(client)
        } else {
            Err(OAuthError::invalid_client(self.basic))
        }
    }
}
