//! What the authorizer's context says, for one solution (and module).

use lambda_http::request::RequestContext;
use lambda_http::{http::StatusCode, RequestExt};
use porter_shared::http::{json, ApiError, HandlerResult, Request};
use porter_shared::AppState;
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
struct Person<'a> {
    id: &'a str,
    email: &'a str,
    role: &'a str,
}

#[derive(Serialize)]
struct Tenant<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Shown<'a> {
    user: Person<'a>,
    tenant: Tenant<'a>,
    solution: &'a str,
    module: Option<&'a str>,
    entitlements: &'a Value,
    auth_via: &'a str,
}

pub async fn solution(state: &AppState, req: &Request, solution: String) -> HandlerResult {
    answer(state, req, &solution, None)
}

pub async fn module(state: &AppState, req: &Request) -> HandlerResult {
    let path = req.uri().path().to_owned();
    let mut parts = path.trim_matches('/').split('/').skip(2);
    let (Some(solution), Some(module)) = (parts.next(), parts.next()) else {
        return Err(ApiError::not_found());
    };
    answer(state, req, solution, Some(module))
}

/// The context API Gateway passed (`requestContext.authorizer.lambda`); 401 without one (a
/// request that did not come through the authorizer).
fn answer(_: &AppState, req: &Request, solution: &str, module: Option<&str>) -> HandlerResult {
    let RequestContext::ApiGatewayV2(ctx) = req.request_context() else {
        return Err(no_context());
    };
    let fields = ctx.authorizer.map(|a| a.fields).unwrap_or_default();
    let text = |name: &str| fields.get(name).and_then(Value::as_str).unwrap_or_default();
    if text("user_id").is_empty() {
        return Err(no_context());
    }
    let none = Value::Object(serde_json::Map::new());
    let shown = Shown {
        user: Person {
            id: text("user_id"),
            email: text("email"),
            role: text("role"),
        },
        tenant: Tenant {
            id: text("tenant_id"),
        },
        solution,
        module,
        entitlements: fields.get("entitlements").unwrap_or(&none),
        auth_via: text("auth_via"),
    };
    Ok(json(StatusCode::OK, &shown))
}

fn no_context() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
        "This route is reached through Porter's authorizer.",
    )
}
