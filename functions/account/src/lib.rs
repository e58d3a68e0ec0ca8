//! `account`: a signed-in user looking after their own account (page `/app/account`).
//!
//! - `GET /api/account` → email, role, second factors, live sessions, devices
//! - (`POST /api/account/password` is the `account-password` function's)
//! - `POST /api/account/reauth {method, code | credential}`: a fresh proof of the second
//!   factor, which changing factors needs (403 `reauth_required` without one)
//! - `POST /api/account/recovery-codes`: a new set
//! - `PATCH|DELETE /api/account/security-keys/{id}`, `DELETE /api/account/totp`,
//!   `DELETE /api/account/phone`
//! - `POST /api/account/reauth {method: "sms"}` texts a code for the proof
//! - `DELETE /api/account/sessions/{id}` ends one; `DELETE /api/account/sessions` every other
//!   (and forgets every device but this browser's)
//! - `DELETE /api/account/devices/{id}` forgets a device

mod devices;
mod factors;
mod overview;
mod sessions;

use porter_shared::http::{Body, Request, Response};
use porter_shared::AppState;
use porter_shared::Routes;
use std::sync::LazyLock;

pub async fn handle(state: &AppState, req: Request) -> Response<Body> {
    static ROUTES: LazyLock<Routes> = LazyLock::new(|| {
        Routes::new()
            .get("/api/account", overview::show)
            .post("/api/account/reauth", factors::reauth)
            .post("/api/account/recovery-codes", factors::new_recovery_codes)
            .patch("/api/account/security-keys/{id}", factors::rename_key)
            .delete("/api/account/security-keys/{id}", factors::remove_key)
            .delete("/api/account/totp", factors::remove_totp)
            .delete("/api/account/phone", factors::remove_phone)
            .delete("/api/account/sessions", sessions::end_others)
            .delete("/api/account/sessions/{id}", sessions::end_one)
            .delete("/api/account/devices/{id}", devices::forget)
    });
    ROUTES.serve(state, req).await
}
