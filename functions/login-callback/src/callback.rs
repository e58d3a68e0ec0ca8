//! The callback, step by step; `link.rs` finds the person an identity belongs to.

use crate::failure::{fail, internal, oauth_error, Failure, EXPIRED, FAILED};
use crate::link::{self, Person, OTHER_PERSON};
use lambda_http::http::header;
use porter_shared::auth::session::presented_device;
use porter_shared::auth::sign_in::{self, NewSession, Proved, Seen};
use porter_shared::credentials::oidc::{self, Expected, IdClaims, IdTokenError};
use porter_shared::domain::sso::{pkce_challenge, state_hash, ClientAuth};
use porter_shared::domain::{
    Action, AuditEvent, IdpConfig, SsoMethod, SsoPurpose, SsoState, TenantId, Timestamp, UserRecord,
};
use porter_shared::http::cookies::Cookie;
use porter_shared::http::{client_ip, query_param, redirect, user_agent, HandlerResult, Request};
use porter_shared::outbound;
use porter_shared::sso;
use porter_shared::store::sso::SsoSaveError;
use porter_shared::AppState;
use secrecy::ExposeSecret;

/// What the callback ends in.
enum Outcome {
    /// Signed in: the session, and where to go.
    SignedIn(Box<NewSession>),
    /// An admin's test sign-in: the configuration is active now, or says why not.
    Tested(Result<(), Failure>),
}

/// `GET /api/login/callback/{ref}`: the redirect URI of one configuration.
pub async fn handle(state: &AppState, req: &Request, callback_ref: String) -> HandlerResult {
    answer(state, req, Some(&callback_ref)).await
}

/// `GET /api/login/callback`: the redirect URI every configuration once shared. An answer
/// arriving there is refused (and its state spent) before any request to a token endpoint.
pub async fn shared_path(state: &AppState, req: &Request) -> HandlerResult {
    answer(state, req, None).await
}

async fn answer(state: &AppState, req: &Request, path_ref: Option<&str>) -> HandlerResult {
    let ip = client_ip(req);
    let mut resp = match complete(state, req, &ip, path_ref).await {
        Ok(Outcome::SignedIn(session)) => session.redirect(&state.config),
        Ok(Outcome::Tested(Ok(()))) => redirect("/app/configuration/sso?tested=ok"),
        Ok(Outcome::Tested(Err(f))) => {
            tracing::warn!(code = f.code, reason = %f.reason, "single sign-on test failed");
            redirect(&format!(
                "/app/configuration/sso?tested=failed&reason={}",
                f.code
            ))
        }
        Err(f) => {
            tracing::warn!(code = f.code, reason = %f.reason, "single sign-on failed");
            redirect(&format!("/login?error={}", f.code))
        }
    };
    resp.headers_mut()
        .append(header::SET_COOKIE, Cookie::SsoBinding.clear(&state.config));
    Ok(resp)
}

async fn complete(
    state: &AppState,
    req: &Request,
    ip: &str,
    path_ref: Option<&str>,
) -> Result<Outcome, Failure> {
    let now = Timestamp::now();
    let raw_state = query_param(req, "state").ok_or_else(|| fail(EXPIRED, "no state"))?;
    let st = state
        .store
        .take_sso_state(&state_hash(&raw_state))
        .await
        .map_err(internal)?
        .ok_or_else(|| fail(EXPIRED, "unknown or used state"))?;
    // RFC 9700 §4.4.2: each configuration has its own redirect URI, so an answer meant for
    // another provider (a mix-up) arrives at the wrong path. Its state is spent.
    if st.callback_ref.is_empty() || path_ref != Some(st.callback_ref.as_str()) {
        return Err(fail(
            FAILED,
            "the answer arrived at another configuration's redirect URI",
        ));
    }
    if !st.is_fresh(now) {
        return Err(fail(EXPIRED, "the state is older than ten minutes"));
    }
    let verifier = Cookie::SsoBinding
        .read(req, &state.config)
        .ok_or_else(|| fail(EXPIRED, "no binding cookie"))?;
    if pkce_challenge(&verifier) != st.challenge {
        return Err(fail(EXPIRED, "the sign-in was started in another browser"));
    }
    let result = federate(state, req, &st, &verifier, now).await;
    match &st.purpose {
        SsoPurpose::Test { admin } => Ok(Outcome::Tested(
            test_result(state, &st, admin, result, ip).await,
        )),
        SsoPurpose::SignIn => {
            let federated = match result {
                Ok(ok) => ok,
                Err(f) => {
                    audit_failure(state, &st.tenant, &f, ip, true).await;
                    return Err(f);
                }
            };
            let seen = Seen {
                ip,
                user_agent: &user_agent(req),
                device: None,
                proved_before: &[],
            };
            sign_in(state, &st.tenant, federated, seen, now).await
        }
    }
}

/// What a sign-in at the provider proved: the configuration, the person, and how the
/// provider says it authenticated them.
struct Federated {
    config: IdpConfig,
    person: Person,
    amr: Vec<String>,
}

/// Steps common to sign-in and test: the provider's answer, the code exchange, the ID token
/// and the person it names.
async fn federate(
    state: &AppState,
    req: &Request,
    st: &SsoState,
    verifier: &str,
    now: Timestamp,
) -> Result<Federated, Failure> {
    if let Some(error) = query_param(req, "error") {
        return Err(fail(
            "sso_cancelled",
            format!("the provider answered error={}", oauth_error(&error)),
        ));
    }
    let (sso, _) = state.store.get_sso(&st.tenant).await.map_err(internal)?;
    let (config, only) = match &st.purpose {
        SsoPurpose::SignIn => (sso.active, None),
        SsoPurpose::Test { admin } => (sso.pending, Some(admin)),
    };
    let config = config
        .filter(|c| c.provider.issuer == st.issuer && c.callback_ref == st.callback_ref)
        .ok_or_else(|| fail(EXPIRED, "the configuration changed during the sign-in"))?;
    // RFC 9207: when the provider names itself, it must be the one the sign-in went to; a
    // provider that always names itself must have done so. Refused before any code is sent.
    match query_param(req, "iss") {
        Some(iss) if iss != config.provider.issuer => {
            return Err(fail(
                FAILED,
                "the iss parameter is not the provider's issuer",
            ));
        }
        None if config.provider.iss_parameter => {
            return Err(fail(
                FAILED,
                "the provider names itself in every answer, and this one did not",
            ));
        }
        _ => {}
    }
    let code = query_param(req, "code").ok_or_else(|| fail(FAILED, "no code"))?;
    let id_token = exchange(state, &st.tenant, &config, &code, verifier).await?;
    let claims = check_token(state, &config, &id_token, &st.nonce, now).await?;
    let device = presented_device(req, state);
    let person = link::person(state, &st.tenant, &config, &claims, only, device).await?;
    Ok(Federated {
        amr: claims.methods(),
        config,
        person,
    })
}

/// The authorization code for tokens, with the PKCE verifier and the client secret.
async fn exchange(
    state: &AppState,
    tenant: &TenantId,
    config: &IdpConfig,
    code: &str,
    verifier: &str,
) -> Result<String, Failure> {
    let endpoint = &config.provider.token_endpoint;
    // The secret goes only to the token endpoint it was saved for.
    let secret = sso::client_secret(state, tenant, &config.secret_ref, endpoint)
        .await
        .map_err(internal)?
        .ok_or_else(|| fail(FAILED, "no client secret is stored for this token endpoint"))?;
    let redirect_uri = state.config.link(&config.callback_path());
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier),
    ];
    let basic = match config.provider.client_auth {
        ClientAuth::ClientSecretBasic => Some((config.client_id.as_str(), secret.expose_secret())),
        ClientAuth::ClientSecretPost => {
            form.push(("client_id", config.client_id.as_str()));
            form.push(("client_secret", secret.expose_secret()));
            None
        }
    };
    let target = outbound::check(&config.provider.token_endpoint, state.config.allow_loopback)
        .await
        .map_err(|e| fail(FAILED, format!("token endpoint: {e}")))?;
    let answer = outbound::post_form(&target, &form, basic)
        .await
        .map_err(|e| fail(FAILED, format!("token endpoint: {e}")))?;
    let body: serde_json::Value = answer
        .json()
        .map_err(|e| fail(FAILED, format!("token endpoint: {e}")))?;
    if answer.status != 200 {
        return Err(fail(
            FAILED,
            format!(
                "the token endpoint refused the code: {}",
                oauth_error(body["error"].as_str().unwrap_or_default())
            ),
        ));
    }
    body["id_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| fail(FAILED, "the token answer holds no id_token"))
}

/// The ID token, checked; a key the cached set does not hold sends for the set again, once.
async fn check_token(
    state: &AppState,
    config: &IdpConfig,
    token: &str,
    nonce: &str,
    now: Timestamp,
) -> Result<IdClaims, Failure> {
    let expected = Expected {
        issuer: &config.provider.issuer,
        client_id: &config.client_id,
        nonce,
        algorithms: &config.provider.algorithms,
        directory_id: config
            .directory_id
            .as_deref()
            .filter(|_| config.method == SsoMethod::EntraId),
    };
    let keys = |refresh| {
        state
            .jwks
            .get(&state.config, &config.provider.jwks_uri, refresh)
    };
    let set = keys(false)
        .await
        .map_err(|e| fail(FAILED, format!("keys: {e}")))?;
    let result = match oidc::validate_id_token(token, &set, &expected, now) {
        Err(IdTokenError::UnknownKey) => {
            let set = keys(true)
                .await
                .map_err(|e| fail(FAILED, format!("keys: {e}")))?;
            oidc::validate_id_token(token, &set, &expected, now)
        }
        other => other,
    };
    result.map_err(|e| fail(FAILED, e.to_string()))
}

/// A sign-in that got through: a full session, or one at the password level when Porter's
/// second factor follows: by the configuration's policy (and what the provider's `amr`
/// shows), and always for someone of another organisation, whom the provider vouches for
/// only as the owner of their address.
async fn sign_in(
    state: &AppState,
    config_tenant: &TenantId,
    federated: Federated,
    seen: Seen<'_>,
    now: Timestamp,
) -> Result<Outcome, Failure> {
    let Federated {
        config,
        person,
        amr,
    } = federated;
    let user = person.user;
    let mut events = Vec::new();
    if person.newly_linked {
        let link = AuditEvent::by(&user, Action::SsoLink, Some(&user), seen.ip);
        events.push(link.outcome(config.method.as_str()));
    }
    let then_second_factor =
        user.tenant != *config_tenant || config.second_factor.asks_porter_factor(&amr);
    let proved = Proved::Provider { then_second_factor };
    // The browser's device cookie is used again when it is this person's.
    let seen = Seen {
        device: person.device.as_ref(),
        ..seen
    };
    let new = sign_in::begin(proved, &user, person.tenant.as_ref(), seen, events, now)
        .map_err(|_| fail("tenant_suspended", "the organisation is suspended"))?;
    let writes = state
        .store
        .session_writes(&new.record, &user, &new.events, &mut rand::rngs::OsRng)
        .and_then(|w| Ok(w.and(new.device_writes(&state.store)?)))
        .map_err(internal)?;
    state.store.commit(writes).await.map_err(internal)?;
    Ok(Outcome::SignedIn(Box::new(new)))
}

/// An admin's test: it must name that same admin; then the configuration becomes active.
async fn test_result(
    state: &AppState,
    st: &SsoState,
    admin: &porter_shared::domain::UserId,
    result: Result<Federated, Failure>,
    ip: &str,
) -> Result<(), Failure> {
    let outcome = match result {
        Ok(f) if f.person.user.id == *admin => {
            activate(state, &st.tenant, &f.person.user, ip).await
        }
        Ok(f) => Err(fail(
            OTHER_PERSON,
            format!(
                "the provider signed in {}, not the admin who started the test",
                f.person.user.email
            ),
        )),
        Err(f) => Err(f),
    };
    if let Err(f) = &outcome {
        audit_failure(state, &st.tenant, f, ip, false).await;
    }
    outcome
}

async fn activate(
    state: &AppState,
    tenant: &TenantId,
    admin: &UserRecord,
    ip: &str,
) -> Result<(), Failure> {
    let (previous, version) = state.store.get_sso(tenant).await.map_err(internal)?;
    let method = previous.pending.as_ref().map(|c| c.method);
    let (Some(next), Some(method)) = (
        previous.tested(admin.email.as_str(), Timestamp::now()),
        method,
    ) else {
        return Err(fail(
            EXPIRED,
            "the configuration was replaced during the test",
        ));
    };
    let audit = AuditEvent::by(admin, Action::SsoActivate, None, ip)
        .target_text(method.as_str().to_owned());
    match state
        .store
        .save_sso(tenant, &next, version, &[audit], &mut rand::rngs::OsRng)
        .await
    {
        Ok(()) => Ok(()),
        Err(SsoSaveError::Stale) => Err(fail(EXPIRED, "the configuration changed during the test")),
        Err(SsoSaveError::DomainUnverified(d)) => Err(fail(
            FAILED,
            format!("{d} is no longer a verified domain of the organisation"),
        )),
        Err(e) => Err(internal(e)),
    }
}

/// Failed sign-ins through a provider that the trail keeps per organisation in any ten minutes:
/// anyone can make them (a link with a made-up error), so past this they are counted, not
/// written.
const FAILURES_WRITTEN: i64 = 20;
const FAILURE_WINDOW_SECS: i64 = 600;

/// The trail keeps why a sign-in through the provider failed; the page never shows it. With
/// `capped` (nobody signed in made it), at most [`FAILURES_WRITTEN`] per window.
async fn audit_failure(state: &AppState, tenant: &TenantId, f: &Failure, ip: &str, capped: bool) {
    if capped {
        let now = Timestamp::now();
        let counted = state
            .store
            .count_in_window("sso-failure", tenant, FAILURE_WINDOW_SECS, now)
            .await;
        match counted {
            Ok(n) if n > FAILURES_WRITTEN => {
                tracing::warn!(
                    count = n,
                    "single sign-on failures over the trail's cap; counted, not written"
                );
                return;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not count a single sign-on failure"),
        }
    }
    let event = AuditEvent {
        tenant: tenant.clone(),
        actor: "identity provider".to_owned(),
        action: Action::LoginSso,
        target: Some(format!("{}: {}", f.code, f.reason)),
        actor_email: None,
        target_email: None,
        detail: None,
        source_ip: ip.to_owned(),
        outcome: "failure",
        via: None,
    };
    state.store.audit(&event).await;
}
