//! `POST /oauth2/token`: a code for tokens, or a refresh token for new ones.
//!
//! A code is good once, for a minute, for the client, redirect URI and PKCE verifier it was
//! issued for, while the Porter session it came from lives. A second use revokes the grant
//! the first started (its refresh token at once, its access tokens at userinfo; at the
//! authorizer they live out their five minutes). A refresh token is rotated on each use; the
//! reuse of a rotated one revokes the grant; a refresh counts as the session's activity.
//! Three DynamoDB requests either way: the client with the code (or refresh token), the
//! session with its user and tenant (and grant), and one transaction.

use crate::client_auth::{claimed, form, OAuthError};
use crate::discovery::issuer;
use crate::live::{live_session, Ended, Live};
use lambda_http::http::{header, HeaderValue, StatusCode};
use porter_shared::access_tokens;
use porter_shared::domain::access_token::{new_jti, AccessClaims, ACCESS_TOKEN_SECS};
use porter_shared::domain::oauth::{new_token, ClientRecord, GrantRecord, RefreshRecord, Subject};
use porter_shared::domain::{Action, AuditEvent, GrantId, SessionOwner, Timestamp, TokenHash};
use porter_shared::http::{client_ip, json, HandlerResult, Request};
use porter_shared::store::fetch::Fetch;
use porter_shared::store::StoreError;
use porter_shared::AppState;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct Tokens {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    id_token: String,
    scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

pub async fn token(state: &AppState, req: &Request) -> HandlerResult {
    let mut client = None;
    let mut resp = match grant(state, req, &mut client).await {
        Ok(tokens) => json(StatusCode::OK, &tokens),
        Err(e) => {
            tracing::info!(error = e.error, reason = %e.description, "token request refused");
            e.into_response()
        }
    };
    let headers = resp.headers_mut();
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    // An app in a browser (a public client) reads the answer from its own origin: the origin
    // of one of its redirect URIs, and no other.
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    if let (Some(origin), Some(client)) = (origin, client) {
        if client.redirect_uris.iter().any(|u| origin_of(u) == origin) {
            if let Ok(v) = HeaderValue::from_str(origin) {
                headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            }
        }
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    Ok(resp)
}

fn origin_of(uri: &str) -> String {
    url::Url::parse(uri).map_or_else(|_| String::new(), |u| u.origin().ascii_serialization())
}

/// The tokens for a good request; `client` is set once the client proved who it is.
async fn grant(
    state: &AppState,
    req: &Request,
    proved: &mut Option<ClientRecord>,
) -> Result<Tokens, OAuthError> {
    let form = form(req)?;
    let claimed = claimed(req, &form)?;
    let now = Timestamp::now();
    let source_ip = client_ip(req);
    match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let hash = presented(&form, "code")?;
            let found = state
                .store
                .presented_code(&claimed.id, hash.as_ref())
                .await?;
            let client = claimed.verify(found.client)?;
            *proved = Some(client.clone());
            let code = found
                .token
                .ok_or_else(|| OAuthError::invalid_grant("The code is not valid."))?;
            let replayed = Revoked {
                grant: &code.grant,
                owner: &code.owner,
                client: &client,
                source_ip: &source_ip,
            };
            if code.used {
                revoke(state, &replayed, now).await;
                return Err(OAuthError::invalid_grant(
                    "The code was used already; what it issued is revoked.",
                ));
            }
            code.check(
                &client.id,
                form.get("redirect_uri").map(String::as_str),
                form.get("code_verifier").map(String::as_str),
                now,
            )
            .map_err(|why| OAuthError::invalid_grant(format!("The code is not valid: {why}.")))?;
            let live = live_session(state, &code.session, &code.owner, None, now).await?;
            let refresh = code
                .scope
                .iter()
                .any(|s| s == "offline_access")
                .then(|| new_token(&mut rand::rngs::OsRng));
            let grant = GrantRecord {
                id: code.grant.clone(),
                client: client.id.clone(),
                session: code.session.clone(),
                owner: code.owner.clone(),
                scope: code.scope.clone(),
                revoked: false,
                expires_at: live.session.expires_at,
            };
            let tokens = issue(state, &live, &client, &grant, code.nonce.as_deref(), now).await?;
            let record = refresh.as_ref().map(|(_, hash)| RefreshRecord {
                hash: hash.clone(),
                grant: grant.id.clone(),
                client: client.id.clone(),
                session: grant.session.clone(),
                owner: grant.owner.clone(),
                rotated: false,
                expires_at: grant.expires_at,
            });
            match state
                .store
                .exchange_code(&code, &grant, record.as_ref(), now)
                .await
            {
                Ok(()) => {}
                Err(StoreError::Conflict { .. }) => {
                    // Spent meanwhile, or revoked by a replay that got there first.
                    revoke(state, &replayed, now).await;
                    return Err(OAuthError::invalid_grant(
                        "The code was used already; what it issued is revoked.",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            Ok(Tokens {
                refresh_token: refresh.map(|(raw, _)| raw),
                ..tokens
            })
        }
        Some("refresh_token") => {
            let hash = presented(&form, "refresh_token")?;
            let found = state
                .store
                .presented_refresh(&claimed.id, hash.as_ref())
                .await?;
            let client = claimed.verify(found.client)?;
            *proved = Some(client.clone());
            let old = found
                .token
                .filter(|r| r.client == client.id)
                .ok_or_else(|| OAuthError::invalid_grant("The refresh token is not valid."))?;
            let reused = Revoked {
                grant: &old.grant,
                owner: &old.owner,
                client: &client,
                source_ip: &source_ip,
            };
            if old.rotated {
                revoke(state, &reused, now).await;
                return Err(OAuthError::invalid_grant(
                    "The refresh token was used already; the app's sign-in is revoked.",
                ));
            }
            if now >= old.expires_at {
                return Err(OAuthError::invalid_grant("The refresh token expired."));
            }
            let live = live_session(state, &old.session, &old.owner, Some(&old.grant), now).await?;
            let grant = live
                .grant
                .clone()
                .filter(|g| g.client == client.id && g.session == old.session)
                .ok_or_else(|| OAuthError::invalid_grant("The app's sign-in was revoked."))?;
            let tokens = issue(state, &live, &client, &grant, None, now).await?;
            let (raw, hash) = new_token(&mut rand::rngs::OsRng);
            let new = RefreshRecord {
                hash,
                rotated: false,
                ..old.clone()
            };
            match state.store.rotate_refresh(&old, &new, now).await {
                Ok(()) => {}
                // Rotated meanwhile (a reuse racing the first): the family ends.
                Err(e) if e.failed_condition(0) => {
                    revoke(state, &reused, now).await;
                    return Err(OAuthError::invalid_grant(
                        "The refresh token was used already; the app's sign-in is revoked.",
                    ));
                }
                Err(StoreError::Conflict { .. }) => {
                    return Err(OAuthError::invalid_grant(
                        "The app's sign-in was revoked, or the Porter session ended.",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            Ok(Tokens {
                refresh_token: Some(raw),
                ..tokens
            })
        }
        Some(_) => Err(OAuthError::new(
            "unsupported_grant_type",
            "Only authorization_code and refresh_token are supported.",
        )),
        None => Err(OAuthError::invalid_request("grant_type is missing.")),
    }
}

/// The hash of a code or refresh token in the form; `None` for something not shaped like
/// one, which is not looked up (the client is still judged first).
fn presented(form: &BTreeMap<String, String>, name: &str) -> Result<Option<TokenHash>, OAuthError> {
    let raw = form
        .get(name)
        .ok_or_else(|| OAuthError::invalid_request(format!("{name} is missing.")))?;
    Ok(TokenHash::of_presented(raw))
}

/// Revokes `grant` (a code or refresh token was used twice) and tells the person's
/// organisation in its audit log.
async fn revoke(state: &AppState, why: &Revoked<'_>, now: Timestamp) {
    let keep = now.plus_secs(porter_shared::domain::oauth::SPENT_CODE_KEPT_SECS);
    if let Err(e) = state.store.revoke_grant(why.grant, keep, now).await {
        tracing::error!(error = %e, grant = %why.grant, "could not revoke a grant");
    }
    tracing::warn!(grant = %why.grant, client = %why.client.id, "a code or refresh token was used twice: grant revoked");
    let owner = why.owner;
    let mut fetch = Fetch::default().user(&owner.home, &owner.user);
    if owner.tenant != owner.home {
        fetch = fetch.home(&owner.home);
    }
    let Ok(mut found) = state.store.fetch(&fetch).await else {
        return;
    };
    let Some((user, _)) = found.user.take() else {
        return;
    };
    let event = AuditEvent::by(&user, Action::AppRevoked, None, why.source_ip)
        .outcome("failure")
        .detail(&why.client.name);
    let event = match found.home.take() {
        Some(msp) => event.acting_in(&owner.tenant, msp.display_name()),
        None => event,
    };
    state.store.audit(&event).await;
}

/// What a revocation is about.
struct Revoked<'a> {
    grant: &'a GrantId,
    owner: &'a SessionOwner,
    client: &'a ClientRecord,
    source_ip: &'a str,
}

impl From<Ended> for OAuthError {
    fn from(e: Ended) -> Self {
        match e {
            Ended::Gone => {
                OAuthError::invalid_grant("The Porter sign-in this came from has ended.")
            }
            Ended::Suspended => {
                OAuthError::invalid_grant("The organisation's access is suspended.")
            }
            Ended::NoRole => OAuthError::invalid_grant("The account has no role."),
            Ended::Store(e) => e.into(),
        }
    }
}

/// An ID token and an access token for `grant`, signed at the same time.
async fn issue(
    state: &AppState,
    live: &Live,
    client: &ClientRecord,
    grant: &GrantRecord,
    nonce: Option<&str>,
    now: Timestamp,
) -> Result<Tokens, OAuthError> {
    let iss = issuer(state);
    let subject = Subject {
        session: &live.session,
        user: &live.user,
        tenant: &live.tenant,
    };
    let id = subject.id_claims(&iss, &client.id, nonce, &grant.scope, now);
    let scope = grant.scope.join(" ");
    let access = AccessClaims::for_session(
        &iss,
        &state.config.token_audience,
        &live.session,
        &live.user,
        &live.tenant,
        now,
        new_jti(&mut rand::rngs::OsRng),
    )
    .map(|c| AccessClaims {
        client_id: Some(client.id.as_str().to_owned()),
        scope: Some(scope.clone()),
        gid: Some(grant.id.as_str().to_owned()),
        ..c
    })
    .ok_or_else(|| OAuthError::invalid_grant("The account has no role."))?;
    let (id_token, access_token) = tokio::join!(
        access_tokens::sign_id_token(state, &id),
        access_tokens::sign(state, &access)
    );
    let failed = |e: access_tokens::TokenError| {
        tracing::error!(error = %e, "signing a token");
        OAuthError::unavailable()
    };
    Ok(Tokens {
        access_token: access_token.map_err(failed)?,
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECS,
        id_token: id_token.map_err(failed)?,
        scope,
        refresh_token: None,
    })
}
