//! `GET /oauth2/authorize`: the code flow's front door. The client and its redirect URI are
//! checked first; until both hold, nothing is sent anywhere but a page in Porter. Then the
//! browser's session decides: a code for a full one, the sign-in pages (and back) otherwise,
//! `login_required` for `prompt=none`.

use crate::discovery::issuer;
use crate::page;
use lambda_http::http::StatusCode;
use porter_shared::auth::session::authenticate;
use porter_shared::domain::oauth::{
    new_token, single_params, AuthorizeRequest, CodeRecord, Decision, Refused, Unsafe, CODE_SECS,
};
use porter_shared::domain::{Action, Email, GrantId, Level, Timestamp};
use porter_shared::http::{client_ip, redirect, Body, HandlerResult, Request, Response};
use porter_shared::AppState;
use std::collections::BTreeMap;

/// Where answers go once the client and its redirect URI hold: the app, with `state` and
/// `iss` (RFC 9207) beside the code or the error.
struct Back {
    uri: String,
    state: Option<String>,
    iss: String,
}

impl Back {
    fn with(&self, pairs: &[(&str, &str)]) -> Response<Body> {
        let mut url = match url::Url::parse(&self.uri) {
            Ok(u) => u,
            // Registered URIs are parsed when registered; this cannot happen.
            Err(_) => return unsafe_page(&Unsafe::RedirectUri),
        };
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in pairs {
                q.append_pair(k, v);
            }
            if let Some(s) = &self.state {
                q.append_pair("state", s);
            }
            q.append_pair("iss", &self.iss);
        }
        redirect(url.as_str())
    }

    fn error(&self, r: &Refused) -> Response<Body> {
        self.with(&[("error", r.error), ("error_description", r.description)])
    }
}

fn unsafe_page(why: &Unsafe) -> Response<Body> {
    let message = match why {
        Unsafe::UnknownClient => {
            "The app that sent you here is not registered with Porter. Nothing was sent back to it."
        }
        Unsafe::RedirectUri => {
            "The app asked to send you back to an address it did not register. Nothing was sent to it."
        }
        Unsafe::Repeated(_) => {
            "The sign-in request names a parameter more than once. Nothing was sent back to the app."
        }
    };
    page::problem(
        StatusCode::BAD_REQUEST,
        "This sign-in request is not valid",
        message,
    )
}

fn refusal(error: &'static str, description: &'static str) -> Refused {
    Refused { error, description }
}

pub async fn authorize(state: &AppState, req: &Request) -> HandlerResult {
    let params = match single_params(req.uri().query().unwrap_or("")) {
        Ok(p) => p,
        Err(why) => return Ok(unsafe_page(&why)),
    };
    let (client_id, redirect_uri) = match AuthorizeRequest::addressed(&params) {
        Ok(a) => a,
        Err(why) => return Ok(unsafe_page(&why)),
    };
    // The client and the browser's session are read at the same time.
    let (client, caller) = tokio::join!(
        state.store.get_client(&client_id),
        authenticate(state, req, Level::Full)
    );
    let Some(client) = client? else {
        return Ok(unsafe_page(&Unsafe::UnknownClient));
    };
    if !client.redirects_to(&redirect_uri) {
        return Ok(unsafe_page(&Unsafe::RedirectUri));
    }
    let back = Back {
        uri: redirect_uri.clone(),
        state: params.get("state").filter(|s| !s.is_empty()).cloned(),
        iss: issuer(state),
    };
    let request = match AuthorizeRequest::parse(&client, redirect_uri, &params) {
        Ok(r) => r,
        Err(r) => return Ok(back.error(&r)),
    };
    let caller = match caller {
        Ok(c) => Some(c),
        Err(e) if matches!(e.code, "unauthenticated" | "mfa_required") => None,
        Err(e) if e.code == "tenant_suspended" => {
            return Ok(back.error(&refusal(
                "access_denied",
                "The organisation's access is suspended.",
            )))
        }
        Err(_) => {
            return Ok(back.error(&refusal(
                "temporarily_unavailable",
                "Porter is temporarily unavailable. Try again in a moment.",
            )))
        }
    };
    let now = Timestamp::now();
    match request.decide(caller.as_ref().map(|c| c.session.created_at.0), now) {
        Decision::LoginRequired => Ok(back.error(&refusal(
            "login_required",
            "The person is not signed in to Porter (or not recently enough).",
        ))),
        Decision::SignIn => Ok(sign_in_first(&request, &params, now)),
        Decision::Issue => {
            let Some(caller) = caller else {
                return Ok(sign_in_first(&request, &params, now));
            };
            if caller.user.role.is_none() {
                return Ok(back.error(&refusal(
                    "access_denied",
                    "The account has no role yet; an administrator must give it one.",
                )));
            }
            let (code, hash) = new_token(&mut rand::rngs::OsRng);
            let record = CodeRecord {
                hash,
                client: client.id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                nonce: request.nonce.clone(),
                scope: request.scope.clone(),
                session: caller.session.hash.clone(),
                owner: caller.session.owner(),
                grant: GrantId::generate(&mut rand::rngs::OsRng),
                expires_at: now.plus_secs(CODE_SECS),
                used: false,
            };
            let event = caller
                .event(Action::AppSignIn, None, &client_ip(req))
                .detail(&client.name);
            match state.store.put_code(&record, &event, now).await {
                Ok(()) => Ok(back.with(&[("code", &code)])),
                Err(e) => {
                    tracing::error!(error = %e, "storing an authorization code");
                    Ok(back.error(&refusal(
                        "temporarily_unavailable",
                        "Porter is temporarily unavailable. Try again in a moment.",
                    )))
                }
            }
        }
    }
}

/// To the sign-in pages, which come back to this request (minus what asked for the sign-in)
/// once the person is signed in; `login_hint` fills in the address.
fn sign_in_first(
    request: &AuthorizeRequest,
    params: &BTreeMap<String, String>,
    now: Timestamp,
) -> Response<Body> {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("next", &request.return_path(params, now));
    if let Some(hint) = request
        .login_hint
        .as_deref()
        .and_then(|h| Email::parse(h).ok())
    {
        query.append_pair("email", hint.as_str());
    }
    redirect(&format!("/login?{}", query.finish()))
}
