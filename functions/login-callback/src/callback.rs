//! The callback, step by step; `link.rs` finds the person an identity belongs to.

use crate::failure::{fail, internal, oauth_error, Failure, EXPIRED, FAILED};
use crate::link::{self, Person};
use lambda_http::http::header;
use porter_shared::auth::sign_in::{self, NewSession, Proved, Seen};
use porter_shared::credentials::oidc::{self, Expected, IdClaims, IdTokenError};
use porter_shared::domain::sso::{pkce_challenge, state_hash, ClientAuth};
use porter_shared::domain::{
    Action, AuditEvent, IdpConfig, SsoMethod, SsoPurpose, SsoState, TenantId, TenantRecord,
    Timestamp, UserRecord,
};
use porter_shared::http::cookies::Cookie;
use porter_shared::http::{client_ip, query_param, redirect, user_agent, HandlerResult, Request};
use porter_shared::outbound;
use porter_shared::sso::{self, CALLBACK_PATH};
use porter_shared::store::fetch::Fetch;
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

pub async fn handle(state: &AppState, req: &Request) -> HandlerResult {
    let ip = client_ip(req);
    let mut resp = match complete(state, req, &ip).await {
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

async fn complete(state: &AppState, req: &Request, ip: &str) -> Result<Outcome, Failure> {
    let now = Timestamp::now();
    let raw_state = query_param(req, "state").ok_or_else(|| fail(EXPIRED, "no state"))?;
    let st = state
        .store
        .take_sso_state(&state_hash(&raw_state))
        .await
        .map_err(internal)?
        .ok_or_else(|| fail(EXPIRED, "unknown or used state"))?;
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
            let (config, person, tenant) = match result {
                Ok(ok) => ok,
                Err(f) => {
                    audit_failure(state, &st.tenant, &f, ip, true).await;
                    return Err(f);
                }
            };
            let seen = Seen {
                ip,
                user_agent: &user_agent(req),
            };
            sign_in(state, &config, person, tenant.as_ref(), seen, now).await
        }
    }
}

/// Steps common to sign-in and test: the provider's answer, the code exchange, the ID token
/// and the person it names; with the organisation as read beside its configuration.
async fn federate(
    state: &AppState,
    req: &Request,
    st: &SsoState,
    verifier: &str,
    now: Timestamp,
) -> Result<(IdpConfig, Person, Option<TenantRecord>), Failure> {
    if let Some(error) = query_param(req, "error") {
        return Err(fail(
            "sso_cancelled",
            format!("the provider answered error={}", oauth_error(&error)),
        ));
    }
    let fetch = Fetch::default().sso(&st.tenant).tenant(&st.tenant);
    let mut found = state.store.fetch(&fetch).await.map_err(internal)?;
    let (sso, _) = found.sso.take().unwrap_or_default();
    let config = match st.purpose {
        SsoPurpose::SignIn => sso.active,
        SsoPurpose::Test { .. } => sso.pending,
    }
    .filter(|c| c.provider.issuer == st.issuer)
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
    let person = link::person(state, &st.tenant, &config, &claims).await?;
    Ok((config, person, found.tenant))
}

/// The authorization code for tokens, with the PKCE verifier and the client secret.
async fn exchange(
    state: &AppState,
    tenant: &TenantId,
    config: &IdpConfig,
    code: &str,
    verifier: &str,
) -> Result<String, Failure> {
    let secret = sso::client_secret(state, tenant, &config.secret_ref)
        .await
        .map_err(internal)?
        .ok_or_else(|| fail(FAILED, "no client secret is stored"))?;
    let redirect_uri = state.config.link(CALLBACK_PATH);
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

/// A sign-in that got through: a full session, or (when the organisation's policy asks for
/// Porter's second factor after its provider) one at the password level.
async fn sign_in(
    state: &AppState,
    config: &IdpConfig,
    person: Person,
    tenant: Option<&TenantRecord>,
    seen: Seen<'_>,
    now: Timestamp,
) -> Result<Outcome, Failure> {
    let user = person.user;
    let mut events = Vec::new();
    if person.newly_linked {
        let link = AuditEvent::by(&user, Action::SsoLink, Some(&user), seen.ip);
        events.push(link.outcome(config.method.as_str()));
    }
    let proved = Proved::Provider {
        then_second_factor: config.mfa_after_sso,
    };
    let new = sign_in::begin(proved, &user, tenant, seen, events, now)
        .map_err(|_| fail("tenant_suspended", "the organisation is suspended"))?;
    state
        .store
        .start_session(&new.record, &user, &new.events, &mut rand::rngs::OsRng)
        .await
        .map_err(internal)?;
    Ok(Outcome::SignedIn(Box::new(new)))
}

/// An admin's test: it must name that same admin; then the configuration becomes active.
async fn test_result(
    state: &AppState,
    st: &SsoState,
    admin: &porter_shared::domain::UserId,
    result: Result<(IdpConfig, Person, Option<TenantRecord>), Failure>,
    ip: &str,
) -> Result<(), Failure> {
    let outcome = match result {
        Ok((_, person, _)) if person.user.id == *admin => {
            activate(state, &st.tenant, &person.user, ip).await
        }
        Ok((_, person, _)) => Err(fail(
            "sso_other_person",
            format!(
                "the provider signed in {}, not the admin who started the test",
                person.user.email
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
        .save_sso(
            tenant,
            &previous,
            &next,
            version,
            &audit,
            &mut rand::rngs::OsRng,
        )
        .await
    {
        Ok(()) => Ok(()),
        Err(SsoSaveError::Stale) => Err(fail(EXPIRED, "the configuration changed during the test")),
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
    };
    state.store.audit(&event).await;
}
