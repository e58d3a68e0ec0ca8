//! `configure-sso`: an admin chooses how the organisation signs in.
//!
//! - `GET /api/config/sso` → the configuration (never the secret)
//! - `PUT /api/config/sso` → a new provider configuration, `pending` until tested; or
//!   `{"method":"porter"}` for passwords again
//! - `GET`/`PUT /api/config/signin {email_pin}`: sign-in with an emailed PIN, on or off
//! - `GET`/`PUT /api/config/signin/options {passkey_sign_in, sms_mfa}`: passkeys alone, and
//!   codes by text message as a second factor, on or off
//! - `POST /api/config/sso/test` → `{redirect}`: the admin signs in through the pending
//!   provider; when the callback sees that same admin, the configuration becomes `active`
//! - `/api/config/sso/domains…`: the organisation's verified domains (`domains.rs`)
//!
//! Nothing is stored until every check passed: the discovery document, the key set, the
//! domains (verified by this organisation, through DNS or by the operator).

mod domains;
mod save;
mod signin;
mod view;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .get("/api/config/sso", view::get)
            .put("/api/config/sso", save::put)
            .post("/api/config/sso/test", view::test)
            .get("/api/config/sso/domains", domains::list)
            .post("/api/config/sso/domains", domains::add)
            .post("/api/config/sso/domains/{domain}/verify", domains::verify)
            .delete("/api/config/sso/domains/{domain}", domains::remove)
            .get("/api/config/signin", signin::get)
            .put("/api/config/signin", signin::put)
            .get("/api/config/signin/options", signin::get_options)
            .put("/api/config/signin/options", signin::put_options)
    });
    ROUTES.serve(state, req).await
}
