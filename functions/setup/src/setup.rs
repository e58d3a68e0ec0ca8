//! The first admin's initial step: the organisation's name, once.

use lambda_http::http::StatusCode;
use porter_shared::auth::access;
use porter_shared::domain::Action;
use porter_shared::http::{client_ip, json, parse_json, ApiError, Body, Request, Response};
use porter_shared::tenants::parse_tenant_name;
use porter_shared::AppState;
use serde::Deserialize;
use serde::Serialize;

#[derive(Deserialize)]
struct SetupRequest {
    organisation_name: String,
}

pub(crate) async fn setup(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let admin = access::admin(state, req, false).await?;
    let body: SetupRequest = parse_json(req)?;
    let name = parse_tenant_name(&body.organisation_name).map_err(|_| {
        ApiError::bad_request(
            "invalid_organisation_name",
            "Give your organisation a name of 1 to 100 characters.",
        )
    })?;
    let audit = admin.event(Action::TenantSetup, None, &client_ip(req));
    let done = state
        .store
        .finish_setup(&admin.tenant.id, &name, &audit, &mut rand::rngs::OsRng)
        .await?;
    if !done {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "setup_done",
            "The initial setup is already done.",
        ));
    }
    Ok(json(
        StatusCode::OK,
        &SetUp {
            status: "done",
            organisation_name: name,
            next: "/app/configuration",
        },
    ))
}

#[derive(Serialize)]
struct SetUp {
    status: &'static str,
    organisation_name: String,
    next: &'static str,
}
