//! `POST /api/login/identify {email}`: which sign-in method comes next. Tenants without SSO
//! (all of them until SSO is configurable) get the password step; the answer is the same for
//! registered and unknown addresses.

use lambda_http::http::StatusCode;
use porter_shared::domain::Email;
use porter_shared::http::{json, parse_json, ApiError, Body, Request, Response};
use porter_shared::AppState;
use serde::Deserialize;
use serde_json::json as j;

#[derive(Deserialize)]
struct IdentifyRequest {
    email: String,
}

pub async fn handle(_state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let body: IdentifyRequest = parse_json(req)?;
    Email::parse(&body.email).map_err(|e| {
        ApiError::bad_request("invalid_email", format!("{}.", capitalise(&e.to_string())))
    })?;
    // The seam for home-realm discovery: a tenant with SSO will answer {next:"sso", redirect}.
    Ok(json(StatusCode::OK, &j!({ "next": "password" })))
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
