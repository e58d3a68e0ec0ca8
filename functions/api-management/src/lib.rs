//! `api-management`: an admin connects the organisation to the vendor platform.
//!
//! - `GET /api/config/platform` → the connection, described (never the key, its password or
//!   the certificate body)
//! - `PUT /api/config/platform {hostname, client_id, kid, private_key_pem, private_key_password?,
//!   certificate_pem?, token_endpoint?}` → checked, then the key material to Secrets Manager
//!   and the description to the table. Without `private_key_pem` the stored key is kept.

mod connection;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .get("/api/config/platform", connection::get)
            .put("/api/config/platform", connection::put)
    });
    ROUTES.serve(state, req).await
}
