//! What a mail job does ([`MailJob`]): the reset link or the sign-in PIN an address asked for,
//! made, stored hashed and sent — when the address belongs to someone it may go to, and
//! nothing otherwise (the request's answer was the same either way). Run by the `mailer`
//! function for each queued job, or by the asking function itself when no queue is
//! configured.

use crate::credentials::password::hash_code;
use crate::domain::pin::{self, PinRecord, PIN_LIFETIME_SECS};
use crate::domain::{Action, AuditEvent, Email, Timestamp, UserRecord, UserStatus};
use crate::mail::queue::MailJob;
use crate::mail::templates;
use crate::store::StoreError;
use crate::{invitations, sso, AppState};
use secrecy::ExposeSecret;

pub type DeliveryError = Box<dyn std::error::Error + Send + Sync>;

/// Does `job`. An error leaves nothing that stops a retry from doing it again.
pub async fn deliver(state: &AppState, job: &MailJob) -> Result<(), DeliveryError> {
    match job {
        MailJob::PasswordReset { email, ip } => send_reset(state, email, ip).await,
        MailJob::SignInPin { email, ip } => send_pin(state, email, ip).await,
    }
}

/// The user an address typed in one of these flows belongs to, if any (a malformed address
/// belongs to nobody).
async fn addressee(state: &AppState, raw_email: &str) -> Result<Option<UserRecord>, StoreError> {
    let Ok(email) = Email::parse(raw_email) else {
        return Ok(None);
    };
    let Some((tid, uid)) = state.store.find_by_email(&email).await? else {
        return Ok(None);
    };
    state.store.get_user(&tid, &uid).await
}

async fn send_reset(state: &AppState, raw_email: &str, ip: &str) -> Result<(), DeliveryError> {
    let Some(user) = addressee(state, raw_email).await? else {
        return Ok(());
    };
    if user.status != UserStatus::Active || !invitations::send_reset(state, &user).await? {
        return Ok(()); // nothing to reset, or a link went out a moment ago
    }
    let event = AuditEvent::by(&user, Action::PasswordResetRequested, Some(&user), ip);
    state.store.audit(&event).await;
    Ok(())
}

/// A PIN for an active (or invited) user of a tenant with `email_pin` on whose address is not
/// routed to single sign-on: 10 minutes, single use, a new one replacing the last.
async fn send_pin(state: &AppState, raw_email: &str, ip: &str) -> Result<(), DeliveryError> {
    let Some(user) = addressee(state, raw_email).await? else {
        return Ok(());
    };
    let (tid, uid) = (user.tenant.clone(), user.id.clone());
    let tenant = state.store.get_tenant(&tid).await?;
    let allowed = tenant.is_some_and(|t| t.email_pin && !t.is_suspended());
    if !allowed || sso::route_for(state, &user.email).await?.is_some() {
        return Ok(()); // not a PIN organisation, or its people sign in at their provider
    }
    let now = Timestamp::now();
    let code = pin::generate(&mut rand::rngs::OsRng);
    let hash = hash_code(&code).await?;
    let record = PinRecord {
        tenant: tid,
        user: uid,
        hash,
        expires_at: now.plus_secs(PIN_LIFETIME_SECS),
        tries: 0,
        source_tries: 0,
    };
    // The same normalisation as the check: the key is the address as typed, lower-cased.
    state.store.put_pin(user.email.as_str(), &record).await?;
    let mail = templates::sign_in_pin(
        &state.config.product_name,
        code.expose_secret(),
        record.expires_at,
    );
    state.mailer().send(user.email.as_str(), &mail).await?;
    let event = AuditEvent::by(&user, Action::LoginPinRequested, Some(&user), ip);
    state.store.audit(&event).await;
    Ok(())
}
