//! `POST /api/license/check`: the platform's entitlements for this organisation, stored and answered as the new menu.

use crate::platform_api::{self, CheckError};
use lambda_http::http::StatusCode;
use porter_shared::auth::access;
use porter_shared::domain::platform::Solution;
use porter_shared::domain::SessionOwner;
use porter_shared::domain::{Action, Entitlements, Timestamp};
use porter_shared::http::{client_ip, json, ApiError, HandlerResult, Request};
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;
use serde::Serialize;

fn api_error(e: &CheckError) -> ApiError {
    match e {
        CheckError::NotConfigured => ApiError::new(
            StatusCode::CONFLICT,
            "platform_not_configured",
            "Set up API management first: the platform connection is not configured.",
        ),
        CheckError::AuthFailed(detail) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "platform_auth_failed",
            format!("The platform refused the sign-in: {detail}"),
        ),
        CheckError::NoMapping(kid) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "platform_no_mapping",
            format!("The platform has no JWT mapping for key {kid}; ask your platform administrator to map it to a user."),
        ),
        CheckError::Unavailable(why) => {
            tracing::warn!(reason = %why, "platform unavailable");
            ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "platform_unavailable",
            "The platform could not be reached (or took longer than 5 seconds). Try again later.",
            )
        }
        CheckError::BadResponse(why) => ApiError::new(
            StatusCode::BAD_GATEWAY,
            "platform_bad_response",
            format!("The platform's answer was not what was expected: {why}"),
        ),
        CheckError::Internal(e) => ApiError::internal("license check", e),
    }
}

pub(crate) async fn check(state: &AppState, req: &Request) -> HandlerResult {
    let with_platform = |s: &SessionOwner| Fetch::default().platform(&s.tenant);
    let mut admin = access::admin_with(state, req, true, with_platform).await?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let config = admin.caller.more.platform.take();
    let result = platform_api::fetch_entitlements(state, &admin.tenant.id, config, now).await;
    let event = admin.event(Action::LicenseCheck, None, &ip);
    match result {
        Ok(solutions) => {
            let entitlements = Entitlements {
                solutions,
                checked_at: now,
            };
            let audit = event.target_text(format!("{} solutions", entitlements.solutions.len()));
            state
                .store
                .set_entitlements(
                    &admin.tenant.id,
                    &entitlements,
                    &audit,
                    &mut rand::rngs::OsRng,
                )
                .await?;
            Ok(json(
                StatusCode::OK,
                &Checked {
                    message: "Menu updated",
                    solutions: &entitlements.solutions,
                    checked_at: now.to_rfc3339(),
                },
            ))
        }
        Err(e) => {
            let error = api_error(&e);
            let audit = event.outcome("failure").target_text(error.code.to_owned());
            state.store.audit(&audit).await;
            Err(error)
        }
    }
}

/// The licence as the platform gave it: the new menu's solutions.
#[derive(Serialize)]
struct Checked<'a> {
    message: &'static str,
    solutions: &'a [Solution],
    checked_at: String,
}
