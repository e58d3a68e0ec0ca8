//! Whose identity this is (ASVS 6.8.1). Later sign-ins find the person by issuer + subject
//! only, so a changed email claim still reaches them. The first sign-in links by the address
//! the provider vouches for, and only when that address is at one of the configuration's
//! verified domains: the provider of a verified domain is trusted as much as its mailbox
//! owner, whichever organisation the person belongs to (they land in their own).

use crate::failure::{fail, internal, Failure};
use porter_shared::credentials::oidc::IdClaims;
use porter_shared::domain::device::DeviceRecord;
use porter_shared::domain::TokenHash;
use porter_shared::domain::{
    Credentials, Email, IdpConfig, SsoMethod, TenantId, TenantRecord, Timestamp, UserId,
    UserRecord, UserStatus,
};
use porter_shared::mail::templates;
use porter_shared::store::fetch::Fetch;
use porter_shared::store::StoreError;
use porter_shared::AppState;

pub(crate) struct Person {
    pub user: UserRecord,
    /// The person's own organisation, as read with them.
    pub tenant: Option<TenantRecord>,
    pub newly_linked: bool,
    /// The device the browser's cookie names (read with the link), whoever's it is.
    pub device: Option<DeviceRecord>,
}

const NOT_REGISTERED: &str = "sso_not_registered";
pub(crate) const OTHER_PERSON: &str = "sso_other_person";

/// Two requests for a linked person (the link with the vouched address's index, then the
/// user with their organisation); a first sign-in adds the link's write. With `only` (an
/// admin's test), nobody else is linked.
pub(crate) async fn person(
    state: &AppState,
    config_tenant: &TenantId,
    config: &IdpConfig,
    claims: &IdClaims,
    only: Option<&UserId>,
    device: Option<TokenHash>,
) -> Result<Person, Failure> {
    let issuer = &config.provider.issuer;
    let sub = claims.subject();
    // The address the provider vouches for is read with the link: it only matters when there
    // is no link yet, and then it costs no request of its own.
    let vouched = claims
        .verified_email(config.method == SsoMethod::EntraId)
        .map(Email::parse);
    let mut fetch = Fetch::default().identity(issuer, sub).device(device);
    if let Some(Ok(email)) = &vouched {
        fetch = fetch.email_index(email);
    }
    let mut found = state.store.fetch(&fetch).await.map_err(internal)?;
    let device = found.device.take();
    if let Some((tid, uid)) = found.identity_ids {
        let (user, tenant) = read_person(state, &tid, &uid).await?;
        let Some((user, _)) = user else {
            return Err(fail(NOT_REGISTERED, "the linked person was removed"));
        };
        // Someone of another organisation is vouched for by this provider only while it is
        // the provider of their address's verified domain.
        if user.tenant != *config_tenant && !config.names_domain(user.email.domain()) {
            return Err(fail(
                NOT_REGISTERED,
                "the identity is linked in another organisation whose domain this configuration no longer names",
            ));
        }
        return Ok(Person {
            user,
            tenant,
            newly_linked: false,
            device,
        });
    }
    let email = match vouched {
        None => {
            return Err(fail(
                "sso_failed",
                "the provider did not vouch for an email address",
            ))
        }
        Some(Err(_)) => return Err(fail("sso_failed", "the provider's address is not valid")),
        Some(Ok(email)) => email,
    };
    if !config.names_domain(email.domain()) {
        return Err(fail(
            NOT_REGISTERED,
            format!("{email} is not at a verified domain of this configuration"),
        ));
    }
    let Some((tid, uid)) = found.email_ids else {
        return Err(fail(NOT_REGISTERED, format!("{email} was never added")));
    };
    if only.is_some_and(|admin| *admin != uid) {
        return Err(fail(
            OTHER_PERSON,
            format!("the provider signed in {email}, not the admin who started the test"),
        ));
    }
    let (user, tenant) = read_person(state, &tid, &uid).await?;
    let Some((user, credentials)) = user else {
        return Err(fail(NOT_REGISTERED, format!("{email} was never added")));
    };
    // Someone who could already sign in another way is told their account now also opens
    // with this identity.
    let had_a_way_in = credentials.password_hash.is_some() || user.has_mfa();
    match state.store.link_identity(&user, issuer, sub).await {
        Ok(()) => {
            if had_a_way_in {
                notify_linked(state, &user, issuer).await;
            }
            Ok(Person {
                user: UserRecord {
                    status: UserStatus::Active,
                    pending_token: None,
                    idp_subject: Some(format!("{issuer}#{sub}")),
                    ..user
                },
                tenant,
                newly_linked: true,
                device,
            })
        }
        Err(StoreError::Conflict { .. }) => Err(fail(
            "sso_failed",
            format!("{email} is already linked to another identity of this provider"),
        )),
        Err(e) => Err(internal(e)),
    }
}

/// The user with their credentials, and their organisation, in one request.
type Found = (Option<(UserRecord, Credentials)>, Option<TenantRecord>);

async fn read_person(state: &AppState, tid: &TenantId, uid: &UserId) -> Result<Found, Failure> {
    let fetch = Fetch::default().user(tid, uid).tenant(tid);
    let found = state.store.fetch(&fetch).await.map_err(internal)?;
    Ok((found.user, found.tenant))
}

/// Tells `user` their account now also opens with an identity at `issuer`. The link is made:
/// a mail that cannot go out is logged, not answered.
async fn notify_linked(state: &AppState, user: &UserRecord, issuer: &str) {
    let product = &state.config.product_name;
    let mail = templates::company_sign_in_linked(product, issuer, Timestamp::now());
    if let Err(e) = state.mailer().send(user.email.as_str(), &mail).await {
        tracing::warn!(error = %e, "could not send the company sign-in notice");
    }
}
