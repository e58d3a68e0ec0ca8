//! `token`: access tokens for the vendor's own APIs (RFC 9068 JWTs signed with ES256 by a KMS
//! key) and the public keys that verify them.
//!
//! - `POST /api/token` (full session; no body, or `{}`) → `{access_token, token_type, expires_in}`
//! - `GET /.well-known/jwks.json` → the public keys, cacheable for five minutes

mod issue;
mod keys;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .post("/api/token", issue::handle)
            .get("/.well-known/jwks.json", keys::jwks)
    });
    ROUTES.serve(state, req).await
}
