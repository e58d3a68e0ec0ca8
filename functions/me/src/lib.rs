//! `me`: `GET /api/me`, who is signed in and what their menu holds. Needs a full session.

mod me;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| Routes::new().get("/api/me", me::me));
    ROUTES.serve(state, req).await
}
