//! `setup`: `POST /api/setup {organisation_name}`, the first admin's initial step. Until it
//! is done, configuration and user management answer 409 `setup_required`.

use lambda_http::http::StatusCode;
use porter_shared::auth::access;
use porter_shared::domain::{Action, AuditEvent};
use porter_shared::http::{client_ip, json, parse_json, ApiError, Body, Request, Response};
use porter_shared::tenants::parse_tenant_name;
use porter_shared::AppState;
use porter_shared::Routes;
use serde::Deserialize;
use serde_json::json as j;
use std::sync::LazyLock;

#[derive(Deserialize)]
struct SetupRequest {
    organisation_name: String,
}

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| Routes::new().post("/api/setup", setup));
    ROUTES.serve(state, req).await
}

async fn setup(state: &AppState, req: &Request) -> Result<Response<Body>, ApiError> {
    let admin = access::admin(state, req, false).await?;
    let body: SetupRequest = parse_json(req)?;
    let name = parse_tenant_name(&body.organisation_name).map_err(|_| {
        ApiError::bad_request(
            "invalid_organisation_name",
            "Give your organisation a name of 1 to 100 characters.",
        )
    })?;
    let audit = AuditEvent::by(
        &admin.caller.user,
        Action::TenantSetup,
        None,
        &client_ip(req),
    );
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
        &j!({ "status": "done", "organisation_name": name, "next": "/app/configuration" }),
    ))
}
