//! `organizations`: an MSP's managed organizations, and where a session acts.
//!
//! - `GET /api/organizations` → `{organizations:[{id, name, created_at, users, max_users,
//!   checked_at}], limit}` (MSP admins; others 403 `not_an_msp` / `forbidden`)
//! - `POST /api/organizations {name}` → 201 `{id, name}`; 409 `organization_limit_reached`
//! - `PATCH /api/organizations/{id} {name}` → `{id, name}`
//! - `DELETE /api/organizations/{id}` → 204: its people, their sessions, its configuration go;
//!   its audit events stay
//! - `POST /api/session/organization {id}` → the session acts in that organization (or, with
//!   the MSP's own id, back home) under a new id; 404 `organization_not_found` outside the
//!   caller's scope
//!
//! An organization of another MSP, or one outside the caller's scope, is a 404 like one that
//! does not exist.

mod manage;
mod switch;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .get("/api/organizations", manage::list)
            .post("/api/organizations", manage::create)
            .patch("/api/organizations/{id}", manage::rename)
            .delete("/api/organizations/{id}", manage::remove)
            .post("/api/session/organization", switch::switch)
    });
    ROUTES.serve(state, req).await
}
