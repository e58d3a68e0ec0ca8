//! `login-callback`: `GET /api/login/callback/{ref}?code&state[&iss]`, where the identity
//! provider sends the browser back; each configuration has its own `ref`, and an answer at
//! another configuration's path (or at the old shared `/api/login/callback`) is refused before
//! any request to a token endpoint. The state is taken once, at most ten minutes old, from the
//! browser that started the sign-in; the code is exchanged with the PKCE verifier and the
//! client secret; the ID token is checked fully; the identity is linked to a person the admin
//! added. Every outcome is a redirect: into the app with a session, to the single sign-on page
//! after an admin's test, or to `/login?error=<code>` with no session. Reasons for a failure
//! go to the audit log and the trace, never to the page.

mod callback;
mod failure;
mod link;

use porter_shared::http::{Body, Request, Response};
use porter_shared::AppState;
use porter_shared::Routes;
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .get("/api/login/callback/{ref}", callback::handle)
            .get("/api/login/callback", callback::shared_path)
    });
    ROUTES.serve(state, req).await
}
