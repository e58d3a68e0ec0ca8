//! `users`: an admin manages the tenant's people and reads the audit trail.
//!
//! - `GET /api/users` → `{users:[...], user_count, max_users}`
//! - `PATCH /api/users/{id} {role}` → the user, role changed, their sessions ended
//! - `DELETE /api/users/{id}` → 204, seat freed, sessions ended
//! - `POST /api/users/{id}/resend` → 202, a fresh invitation (older links die)
//! - `GET /api/audit?next=` → `{events:[...], next}`, newest first
//!
//! Every lookup is scoped to the caller's tenant: another tenant's user id is a 404.

mod audit_view;
mod members;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .get("/api/users", members::list)
            .patch("/api/users/{id}", members::change_role)
            .delete("/api/users/{id}", members::remove)
            .post("/api/users/{id}/resend", members::resend)
            .get("/api/audit", audit_view::serve)
    });
    ROUTES.serve(state, req).await
}
