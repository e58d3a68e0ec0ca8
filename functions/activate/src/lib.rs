//! `activate`: an invited person sets their password (`POST /api/activation`) or trades a dead
//! link for a fresh one (`POST /api/activation/resend`); a person who forgot their password
//! sets a new one from the emailed link (`POST /api/password/reset`).

mod link;
mod resend;

use porter_shared::http::{Body, Request, Response};
use porter_shared::AppState;
use porter_shared::Routes;
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .post("/api/activation", link::activation)
            .post("/api/activation/resend", resend::handle)
            .post("/api/password/reset", link::reset)
    });
    ROUTES.serve(state, req).await
}
