//! Invitations: sending and (re)issuing activation links, and reset links. Shared because the
//! operator's workflows (`tenants`), `activate` and user management all invite.

use crate::domain::{
    Action, AuditEvent, Email, OneTimeToken, TenantId, Timestamp, TokenKind, UserId, UserRecord,
    UserStatus,
};
use crate::mail::{templates, MailError};
use crate::store::StoreError;
use crate::AppState;
use secrecy::{ExposeSecret, SecretString};

/// Seconds a person must wait between two fresh links, so that an old link cannot be used
/// to flood the invitee's inbox.
pub const RESEND_INTERVAL_SECS: i64 = 60;

pub const MAX_TENANT_NAME_CHARS: usize = 100;

/// The activation link for a token: `${PUBLIC_BASE_URL}/activate?token=...`.
pub fn activation_link(state: &AppState, token: &OneTimeToken) -> SecretString {
    SecretString::from(
        state
            .config
            .link(&format!("/activate?token={}", token.secret())),
    )
}

/// Emails the invitation for `token` to `to`. A person whose domain signs in through the
/// organisation's identity provider is invited to sign in with their company account
/// instead of choosing a password (the link is the sign-in page, with the address filled in).
pub async fn send_invitation(
    state: &AppState,
    organisation: &str,
    to: &Email,
    token: &OneTimeToken,
) -> Result<String, MailError> {
    let product = &state.config.product_name;
    // If the routing cannot be read, the password invitation is the safe default: it works
    // either way once the provider is reachable again.
    let federated = matches!(crate::sso::route_for(state, to).await, Ok(Some(_)));
    let mail = if federated {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("email", to.as_str())
            .finish();
        templates::invitation_sso(
            product,
            organisation,
            &state.config.link(&format!("/login?{query}")),
        )
    } else {
        let link = activation_link(state, token);
        templates::invitation(
            product,
            organisation,
            link.expose_secret(),
            token.expires_at,
        )
    };
    state.mailer().send(to.as_str(), &mail).await
}

#[derive(Debug, thiserror::Error)]
pub enum ReissueError {
    /// The user is no longer invited (activated or removed): nothing to send.
    #[error("the user has no pending invitation")]
    NotPending,
    #[error("a new link was sent less than a minute ago")]
    TooSoon { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// Sends `user` a fresh activation link; every older link of theirs stops working.
/// The new token is committed before the email goes out, and the old links can still ask for
/// a fresh one, so a failed email loses nothing: asking again sends another.
pub async fn reissue(
    state: &AppState,
    user: &UserRecord,
    actor: &str,
    source_ip: &str,
    now: Timestamp,
) -> Result<(), ReissueError> {
    if let Some(at) = user.invited_at {
        let wait = at + RESEND_INTERVAL_SECS - now.0;
        if wait > 0 && user.status == UserStatus::Invited {
            return Err(ReissueError::TooSoon {
                retry_after_secs: u64::try_from(wait).unwrap_or(1),
            });
        }
    }
    reissue_now(state, user, actor, source_ip, now).await
}

/// `reissue` without the once-a-minute limit: for the operator's deliberate acts (the
/// break-glass after single sign-on, whose invitation may have gone out a moment ago).
pub async fn reissue_now(
    state: &AppState,
    user: &UserRecord,
    actor: &str,
    source_ip: &str,
    now: Timestamp,
) -> Result<(), ReissueError> {
    if user.status != UserStatus::Invited {
        return Err(ReissueError::NotPending);
    }
    let tenant = state
        .store
        .get_tenant(&user.tenant)
        .await?
        .ok_or(ReissueError::NotPending)?;
    let mut rng = rand::rngs::OsRng;
    let fresh = OneTimeToken::generate(TokenKind::Activation, now, &mut rng);
    let audit = AuditEvent {
        tenant: user.tenant.clone(),
        actor: actor.to_owned(),
        action: Action::InvitationResend,
        target: Some(user.id.to_string()),
        actor_email: None,
        target_email: Some(user.email.as_str().to_owned()),
        detail: None,
        source_ip: source_ip.to_owned(),
        outcome: "success",
        via: None,
    };
    match state
        .store
        .reissue_invitation(user, &fresh, now, &audit, &mut rng)
        .await
    {
        // Someone activated or resent meanwhile: the state we read is stale, nothing to do.
        Err(e) if e.failed_condition(0) => return Err(ReissueError::NotPending),
        other => other?,
    }
    if let Err(e) = send_invitation(state, tenant.display_name(), &user.email, &fresh).await {
        mail_failed(state, &user.tenant, &user.id, &fresh).await;
        return Err(e.into());
    }
    Ok(())
}

/// The link was stored but never reached anyone: let the next request for one through at once.
pub(crate) async fn mail_failed(
    state: &AppState,
    tid: &TenantId,
    uid: &UserId,
    token: &OneTimeToken,
) {
    if let Err(e) = state
        .store
        .forget_invitation_time(tid, uid, &token.hash)
        .await
    {
        tracing::warn!(error = %e, "could not clear the invitation time after a failed email");
    }
}

/// One reset email per minute per account.
pub const RESET_INTERVAL_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// A password-reset link (1 hour, single use) for an active user, emailed, unless one went
/// out less than a minute ago (`Ok(false)`): forgot password, and the operator's
/// break-glass for people who never had a password.
pub async fn send_reset(state: &AppState, user: &UserRecord) -> Result<bool, ResetError> {
    let now = Timestamp::now();
    let token = OneTimeToken::generate(TokenKind::Reset, now, &mut rand::rngs::OsRng);
    if !state
        .store
        .issue_reset(user, &token, now, RESET_INTERVAL_SECS)
        .await?
    {
        return Ok(false);
    }
    let link = SecretString::from(
        state
            .config
            .link(&format!("/reset?token={}", token.secret())),
    );
    let mail = templates::password_reset(
        &state.config.product_name,
        link.expose_secret(),
        token.expires_at,
    );
    if let Err(e) = state.mailer().send(user.email.as_str(), &mail).await {
        // Nothing lost: without its email the link is withdrawn, and a retry issues another.
        if let Err(undo) = state.store.withdraw_reset(user, &token).await {
            tracing::warn!(error = %undo, "could not withdraw an unsent reset link");
        }
        return Err(e.into());
    }
    Ok(true)
}
