//! `setup`: `POST /api/setup {organisation_name}`, the first admin's initial step. Until it
//! is done, configuration and user management answer 409 `setup_required`.

mod setup;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> =
        LazyLock::new(|| Routes::new().post("/api/setup", setup::setup));
    ROUTES.serve(state, req).await
}
