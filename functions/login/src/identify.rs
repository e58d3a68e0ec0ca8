//! `POST /api/login/identify {email}`: which sign-in method comes next. An address whose
//! domain is routed to a tenant's active single sign-on goes to that provider
//! (`{next:"sso", redirect}` and a cookie binding the sign-in to this browser); every other
//! address gets the password step. The answer depends on the domain only, never on whether
//! the person exists. Sixty requests a minute per source address, then 429 `throttled`: each
//! routed answer writes a sign-in in flight (`OIDC#`).

use lambda_http::http::{header, StatusCode};
use porter_shared::auth::guard::identify_limited;
use porter_shared::domain::{Email, SsoPurpose, Timestamp};
use porter_shared::http::{client_ip, json, parse_json, ApiError, HandlerResult, Request};
use porter_shared::{sso, AppState};
use serde::Deserialize;
use serde::Serialize;

#[derive(Deserialize)]
struct IdentifyRequest {
    email: String,
}

pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    let body: IdentifyRequest = parse_json(req)?;
    identify_limited(state, &client_ip(req), Timestamp::now()).await?;
    let email = Email::parse(&body.email).map_err(|e| {
        ApiError::bad_request("invalid_email", format!("{}.", capitalise(&e.to_string())))
    })?;
    let Some((tenant, config)) = sso::route_for(state, &email).await? else {
        return Ok(json(StatusCode::OK, &Identified::Password));
    };
    let (redirect, cookie) = sso::begin(
        state,
        &tenant,
        &config,
        SsoPurpose::SignIn,
        Some(email.as_str()),
    )
    .await?;
    let mut resp = json(StatusCode::OK, &Identified::Sso { redirect });
    resp.headers_mut().append(header::SET_COOKIE, cookie);
    Ok(resp)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Where the address signs in: `{next: "password"}`, or `{next: "sso", redirect}` to the
/// organisation's identity provider.
#[derive(Serialize)]
#[serde(tag = "next", rename_all = "lowercase")]
enum Identified {
    Password,
    Sso { redirect: String },
}
