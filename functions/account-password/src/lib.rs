//! `account-password`: a signed-in user changing their password (page `/app/account`).
//!
//! - `POST /api/account/password {current_password, password, password_confirm}`
//!
//! A function of its own rather than a route of `account`: it is the one account route that
//! runs argon2id (verify the old password, hash the new one) and checks strength (zxcvbn and
//! its word lists), so it gets the memory, hence the CPU, a hash needs (1024 MB), while
//! `account` links neither and runs at 256 MB.

mod password;

use porter_shared::http::{Body, Request, Response};
use porter_shared::AppState;
use porter_shared::Routes;
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> =
        LazyLock::new(|| Routes::new().post("/api/account/password", password::change));
    ROUTES.serve(state, req).await
}
