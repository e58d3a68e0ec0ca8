//! `invite-user`: `POST /api/users {email, role}`. An admin adds a person, who is created
//! invited and gets the same invitation email and 2-day activation link as the first admin.
//! The seat limit is enforced by the transaction that writes the user (see
//! `Store::add_member`), so concurrent adds can never pass it.

mod invite;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> =
        LazyLock::new(|| Routes::new().post("/api/users", invite::add));
    ROUTES.serve(state, req).await
}
