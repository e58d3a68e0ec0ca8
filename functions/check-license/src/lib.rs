//! `check-license`: `POST /api/license/check`. The tenant's key signs an RFC 7523 client
//! assertion, the platform's token endpoint trades it for an access token
//! (`client_credentials`), and `GET /api/v1/entitlements` says which solutions and modules the
//! tenant may use; they are stored and `GET /api/me` shows only those. Any failure keeps the
//! previous entitlements and says what happened; every check is in the audit log.

mod platform_api;

use lambda_http::http::StatusCode;
use platform_api::CheckError;
use porter_shared::auth::access;
use porter_shared::domain::SessionRecord;
use porter_shared::domain::{Action, AuditEvent, Entitlements, Timestamp};
use porter_shared::http::{client_ip, json, ApiError, Body, HandlerResult, Request, Response};
use porter_shared::store::fetch::Fetch;
use porter_shared::AppState;
use porter_shared::Routes;
use serde_json::json as j;
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> =
        LazyLock::new(|| Routes::new().post("/api/license/check", check));
    ROUTES.serve(state, req).await
}

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

async fn check(state: &AppState, req: &Request) -> HandlerResult {
    let with_platform = |s: &SessionRecord| Fetch::default().platform(&s.tenant);
    let mut admin = access::admin_with(state, req, true, with_platform).await?;
    let ip = client_ip(req);
    let now = Timestamp::now();
    let config = admin.caller.more.platform.take();
    let result = platform_api::fetch_entitlements(state, &admin.tenant.id, config, now).await;
    let event = AuditEvent::by(&admin.caller.user, Action::LicenseCheck, None, &ip);
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
                &j!({
                    "message": "Menu updated",
                    "solutions": entitlements.solutions,
                    "checked_at": now.to_rfc3339(),
                }),
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
