//! `GET /oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0): an app signs the person out
//! of Porter and gets them back. With an `id_token_hint` Porter issued, the session the token
//! came from and the browser's own end at once and the answer is a 302 to a registered
//! `post_logout_redirect_uri` (with `state`); first-party apps need no confirmation, and one
//! that names itself by `client_id` instead of a hint is answered the same way. A request
//! naming no app at all could come from any link, so a page asks first and posts back
//! (`POST`, same origin only). An address the app did not register gets a page, never a
//! redirect.

use crate::discovery::issuer;
use crate::page;
use lambda_http::http::{header, StatusCode};
use porter_shared::access_tokens;
use porter_shared::credentials::access::{id_token_kid, verify_id_token_hint};
use porter_shared::domain::oauth::{single_params, IdClaims};
use porter_shared::domain::{ClientId, PresentedSession, TokenHash};
use porter_shared::http::cookies::{carries_session, Cookie};
use porter_shared::http::{redirect, ApiError, Body, HandlerResult, Request, Response};
use porter_shared::AppState;
use std::collections::BTreeMap;

fn invalid(message: &str) -> HandlerResult {
    Ok(page::problem(
        StatusCode::BAD_REQUEST,
        "This sign-out request is not valid",
        message,
    ))
}

pub async fn logout(state: &AppState, req: &Request) -> HandlerResult {
    let Ok(params) = single_params(req.uri().query().unwrap_or("")) else {
        return invalid("The request names a parameter more than once. You are still signed in.");
    };
    let hint = match params.get("id_token_hint").filter(|h| !h.is_empty()) {
        Some(h) => match hinted(state, h).await? {
            Some(claims) => Some(claims),
            None => {
                return invalid(
                    "The app sent a token Porter did not issue. You are still signed in.",
                )
            }
        },
        None => None,
    };
    // An app names itself with its ID token or its client_id: first-party apps sign people
    // out directly. A bare link to here, naming no app, could come from anywhere: a page asks.
    let named = params.get("client_id").is_some_and(|c| !c.is_empty());
    if hint.is_none() && !named && carries_session(req, &state.config) {
        let fields: Vec<(&str, &str)> = ["client_id", "post_logout_redirect_uri", "state"]
            .iter()
            .filter_map(|k| params.get(*k).map(|v| (*k, v.as_str())))
            .collect();
        return Ok(page::confirm_sign_out(&fields));
    }
    finish(state, req, &params, hint.as_ref()).await
}

/// `POST /oauth2/logout`: the confirmation page's answer (the origin check lets only
/// Porter's own pages post here).
pub async fn confirmed(state: &AppState, req: &Request) -> HandlerResult {
    let body = std::str::from_utf8(req.body().as_ref()).unwrap_or("");
    let Ok(params) = single_params(body) else {
        return invalid("The request names a parameter more than once. You are still signed in.");
    };
    finish(state, req, &params, None).await
}

/// The claims of an ID token Porter signed (expired or not), or `None`; an error when the
/// keys cannot be read.
async fn hinted(state: &AppState, token: &str) -> Result<Option<IdClaims>, ApiError> {
    let Ok(kid) = id_token_kid(token) else {
        return Ok(None);
    };
    let key = access_tokens::verifying_key(state, &kid)
        .await
        .map_err(|e| ApiError::internal("reading the signing keys", &e))?;
    Ok(key.and_then(|key| verify_id_token_hint(token, &key, &issuer(state)).ok()))
}

async fn finish(
    state: &AppState,
    req: &Request,
    params: &BTreeMap<String, String>,
    hint: Option<&IdClaims>,
) -> HandlerResult {
    let named = params.get("client_id").filter(|c| !c.is_empty());
    let client_id =
        match (hint.map(|h| &h.aud), named) {
            (Some(a), Some(c)) if a != c => return invalid(
                "The client_id is not the app the token was issued to. You are still signed in.",
            ),
            (Some(a), _) => Some(a.clone()),
            (None, c) => c.cloned(),
        };
    let client = match client_id.as_deref().and_then(ClientId::parse) {
        Some(id) => state.store.get_client(&id).await?,
        None => None,
    };
    // The browser's session, and the one the app's ID token came from.
    let mut ended: Vec<TokenHash> = Cookie::Session
        .read(req, &state.config)
        .and_then(|v| PresentedSession::parse(&v))
        .map(|p| p.hash)
        .into_iter()
        .collect();
    ended.extend(hint.and_then(|h| TokenHash::from_hex(&h.sid)));
    ended.dedup();
    for hash in &ended {
        state.store.delete_session(hash).await?;
    }
    let mut resp = match params
        .get("post_logout_redirect_uri")
        .filter(|u| !u.is_empty())
    {
        None => redirect("/login?reason=signed_out"),
        Some(uri)
            if client
                .as_ref()
                .is_some_and(|c| c.returns_after_logout_to(uri)) =>
        {
            back_to(uri, params.get("state"))
        }
        Some(_) => page::problem(
            StatusCode::BAD_REQUEST,
            "You are signed out",
            "You are signed out of Porter. The app asked to send you to an address it did not \
             register, so you stay here.",
        ),
    };
    resp.headers_mut()
        .append(header::SET_COOKIE, Cookie::Session.clear(&state.config));
    Ok(resp)
}

fn back_to(uri: &str, state: Option<&String>) -> Response<Body> {
    match (url::Url::parse(uri), state.filter(|s| !s.is_empty())) {
        (Ok(mut url), Some(s)) => {
            url.query_pairs_mut().append_pair("state", s);
            redirect(url.as_str())
        }
        _ => redirect(uri),
    }
}
