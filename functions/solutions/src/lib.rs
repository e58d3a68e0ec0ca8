//! `solutions`: the sample product function behind Porter's authorizer — the example a vendor
//! copies. It reads only what the authorizer put in the request context (who, which tenant,
//! which role, which entitlements, how they proved it), never Porter's table: API Gateway ran
//! the authorizer, which already checked the license for this solution and module.
//!
//! - `GET /api/solutions/{solution}` and `GET /api/solutions/{solution}/{module}` → the context

mod show;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .get("/api/solutions/{solution}", show::solution)
            .get("/api/solutions/{solution}/{module}", show::module)
    });
    ROUTES.serve(state, req).await
}
