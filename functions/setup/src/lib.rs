//! `setup`: `POST /api/setup {organisation_name}`, the first admin's initial step. Until it
//! is done, configuration and user management answer 409 `setup_required`.

use lambda_http::http::{Method, StatusCode};
use porter_shared::auth::access;
use porter_shared::http::{
    check_origin, client_ip, json, parse_json, with_security_headers, ApiError, Body, Request,
    Response,
};
use porter_shared::invitations::parse_tenant_name;
use porter_shared::store::AuditEvent;
use porter_shared::AppState;
use serde::Deserialize;
use serde_json::json as j;

#[derive(Deserialize)]
struct SetupRequest {
    organisation_name: String,
}

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    let result = match check_origin(&req, &state.config) {
        Err(e) => Err(e),
        Ok(()) => match (req.method(), req.uri().path()) {
            (&Method::POST, "/api/setup") => setup(state, &req).await,
            (_, "/api/setup") => Err(ApiError::method_not_allowed()),
            _ => Err(ApiError::not_found()),
        },
    };
    with_security_headers(result.unwrap_or_else(ApiError::into_response))
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
    let mut audit = AuditEvent::by_user(
        &admin.caller.user,
        "tenant.setup",
        "success",
        &client_ip(req),
    );
    audit.target = None;
    let done = state
        .store
        .finish_setup(&admin.tenant.id, &name, &audit, &mut rand::rngs::OsRng)
        .await
        .map_err(|e| ApiError::internal("setup failed", &e))?;
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
