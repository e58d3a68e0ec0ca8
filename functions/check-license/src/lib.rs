//! `check-license`: `POST /api/license/check`. The tenant's key signs an RFC 7523 client
//! assertion, the platform's token endpoint trades it for an access token
//! (`client_credentials`), and `GET /api/v1/entitlements` says which solutions and modules the
//! tenant may use; they are stored and `GET /api/me` shows only those. Any failure keeps the
//! previous entitlements and says what happened; every check is in the audit log.

mod check;
mod platform_api;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> =
        LazyLock::new(|| Routes::new().post("/api/license/check", check::check));
    ROUTES.serve(state, req).await
}
