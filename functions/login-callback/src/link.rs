//! Whose identity this is (ASVS 6.8.1). Later sign-ins find the person by issuer + subject
//! only, so a changed email claim still reaches them. The first sign-in links by the address
//! the provider vouches for, to a person of this same organisation, and only if that person
//! has no identity from this provider yet.

use crate::failure::{fail, internal, Failure};
use porter_shared::credentials::oidc::IdClaims;
use porter_shared::domain::{Email, IdpConfig, SsoMethod, TenantId, Timestamp, UserRecord};
use porter_shared::mail::templates;
use porter_shared::store::fetch::Fetch;
use porter_shared::store::StoreError;
use porter_shared::AppState;

pub(crate) struct Person {
    pub user: UserRecord,
    pub newly_linked: bool,
}

const NOT_REGISTERED: &str = "sso_not_registered";

/// Two requests for a linked person (the link with the vouched address's index, then the
/// user); a first sign-in adds the link's write.
pub(crate) async fn person(
    state: &AppState,
    tenant: &TenantId,
    config: &IdpConfig,
    claims: &IdClaims,
) -> Result<Person, Failure> {
    let issuer = &config.provider.issuer;
    let sub = claims.subject();
    // The address the provider vouches for is read with the link: it only matters when there
    // is no link yet, and then it costs no request of its own.
    let vouched = claims
        .verified_email(config.method == SsoMethod::EntraId)
        .map(Email::parse);
    let mut fetch = Fetch::default().identity(issuer, sub);
    if let Some(Ok(email)) = &vouched {
        fetch = fetch.email_index(email);
    }
    let found = state.store.fetch(&fetch).await.map_err(internal)?;
    if let Some((tid, uid)) = found.identity_ids {
        if tid != *tenant {
            return Err(fail(
                NOT_REGISTERED,
                "the identity is linked in another organisation",
            ));
        }
        let user = state
            .store
            .get_user(&tid, &uid)
            .await
            .map_err(internal)?
            .ok_or_else(|| fail(NOT_REGISTERED, "the linked person was removed"))?;
        return Ok(Person {
            user,
            newly_linked: false,
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
    let Some((tid, uid)) = found.email_ids else {
        return Err(fail(NOT_REGISTERED, format!("{email} was never added")));
    };
    if tid != *tenant {
        return Err(fail(
            NOT_REGISTERED,
            format!("{email} belongs to another organisation"),
        ));
    }
    let (user, credentials) = state
        .store
        .get_user_with_credentials(&tid, &uid)
        .await
        .map_err(internal)?
        .ok_or_else(|| fail(NOT_REGISTERED, format!("{email} was never added")))?;
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
                    status: porter_shared::domain::UserStatus::Active,
                    pending_token: None,
                    ..user
                },
                newly_linked: true,
            })
        }
        Err(StoreError::Conflict { .. }) => Err(fail(
            "sso_failed",
            format!("{email} is already linked to another identity of this provider"),
        )),
        Err(e) => Err(internal(e)),
    }
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
