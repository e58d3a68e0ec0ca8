//! `mfa-enroll`: setting up a second factor. Mandatory at the first sign-in: a session at
//! level `password` whose user has no factor can reach these routes and nothing else. Once a
//! factor exists, adding or replacing one needs a full session and a proof of the second
//! factor from the last five minutes (403 `reauth_required`); the change then ends the user's
//! other sessions, gives this one a new id and emails the user.
//!
//! - `POST /api/mfa/totp` → `{secret, otpauth_uri, qr_svg}` (the seed is kept sealed, pending)
//! - `POST /api/mfa/totp/confirm {code}` → `{recovery_codes, next}`
//! - `POST /api/mfa/webauthn/options` → creation options
//! - `POST /api/mfa/webauthn {credential}` → `{recovery_codes, next}`
//! - `POST /api/mfa/passkey/options` → creation options for a passkey (discoverable, with
//!   user verification)
//! - `POST /api/mfa/passkey {credential, name}` → `{recovery_codes, next}`
//! - `POST /api/mfa/sms {phone}` → 202, a code texted; `POST /api/mfa/sms/confirm {code}` →
//!   `{recovery_codes, next}` (where the organisation allows text messages)
//! - `GET /api/mfa/methods` → `{totp, security_key, sms, sms_allowed}`: what the sign-in
//!   pages offer past the first factor

mod enrol;
mod sms;
mod totp;
mod webauthn;

use porter_shared::http::{Body, Request, Response};
use porter_shared::{AppState, Routes};
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .post("/api/mfa/totp", totp::start)
            .post("/api/mfa/totp/confirm", totp::confirm)
            .post("/api/mfa/webauthn/options", webauthn::options)
            .post("/api/mfa/webauthn", webauthn::finish)
            .post("/api/mfa/passkey/options", webauthn::passkey_options)
            .post("/api/mfa/passkey", webauthn::passkey_finish)
            .post("/api/mfa/sms", sms::start)
            .post("/api/mfa/sms/confirm", sms::confirm)
            .get("/api/mfa/methods", sms::methods)
    });
    ROUTES.serve(state, req).await
}
