//! `login`: email first, password (or a PIN emailed to the person), second factor, a passkey
//! alone, sign-out, and "forgot password".

mod floor;
mod forgot;
mod identify;
mod logout;
mod mfa;
mod passkey;
mod password;
mod pin;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .post("/api/login/identify", identify::handle)
            .post("/api/login/password", password::handle)
            .post("/api/login/mfa", mfa::verify)
            .post("/api/login/webauthn/options", mfa::webauthn_options)
            .post("/api/logout", logout::handle)
            .post("/api/password/forgot", forgot::handle)
            .post("/api/login/pin/request", pin::request)
            .post("/api/login/pin", pin::sign_in)
            .post("/api/login/passkey/options", passkey::options)
            .post("/api/login/passkey", passkey::sign_in)
    });
    ROUTES.serve(state, req).await
}
