//! `POST /api/users`: an admin adds a person, within the organisation's seats, and they are invited by email.

use lambda_http::http::StatusCode;
use porter_shared::auth::access;
use porter_shared::domain::{Action, Email, OneTimeToken, Role, Timestamp, TokenKind, UserId};
use porter_shared::http::{client_ip, json, parse_json, ApiError, Body, Request, Response};
use porter_shared::invitations::send_invitation;
use porter_shared::store::members::NewMember;
use porter_shared::AppState;
use serde::Deserialize;
use serde::Serialize;

#[derive(Deserialize)]
struct AddRequest {
    email: String,
    #[serde(default)]
    role: Option<String>,
}

/// `"admin"`, `"core"`, or absent/null for "no role yet".
pub fn parse_role(raw: Option<&str>) -> Result<Option<Role>, ApiError> {
    match raw {
        None => Ok(None),
        Some(r) => Role::parse(r).map(Some).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_role",
                "The role must be \"admin\", \"core\" or null.",
            )
        }),
    }
}

pub(crate) async fn add(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let admin = access::admin(state, req, true).await?;
    let body: AddRequest = parse_json(req)?;
    let email = Email::parse(&body.email)
        .map_err(|_| ApiError::bad_request("invalid_email", "Enter a valid email address."))?;
    let role = parse_role(body.role.as_deref())?;
    let now = Timestamp::now();
    let mut rng = rand::rngs::OsRng;
    let invitation = OneTimeToken::generate(TokenKind::Activation, now, &mut rng);
    let member = NewMember {
        tenant: admin.tenant.id.clone(),
        id: UserId::generate(&mut rng),
        email: email.clone(),
        role,
        invitation: &invitation,
        now,
    };
    let audit = admin
        .event(Action::UserInvite, None, &client_ip(req))
        .target_text(member.id.to_string())
        .target_email(email.as_str())
        .detail(role.map_or(porter_shared::domain::Role::NONE_LABEL, |r| r.label()));
    state.store.add_member(&member, &audit, &mut rng).await?;
    // The user exists from here on. If the email fails, they are listed as invited and the
    // admin can resend: nothing is lost.
    let sent = match send_invitation(state, admin.tenant.display_name(), &email, &invitation).await
    {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, user = %member.id, "invitation email failed; resend is possible");
            let _ = state
                .store
                .forget_invitation_time(&member.tenant, &member.id, &invitation.hash)
                .await;
            false
        }
    };
    Ok(json(
        StatusCode::CREATED,
        &Added {
            id: member.id.as_str(),
            email: email.as_str(),
            role,
            status: "invited",
            invitation_sent: sent,
            message: if sent {
                "Invitation sent."
            } else {
                "The user was added, but the invitation email could not be sent. Use Resend to try again."
            },
        },
    ))
}

/// The person added, and whether their invitation went out.
#[derive(Serialize)]
struct Added<'a> {
    id: &'a str,
    email: &'a str,
    role: Option<Role>,
    status: &'static str,
    invitation_sent: bool,
    message: &'static str,
}
