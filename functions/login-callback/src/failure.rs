//! Why a sign-in through the provider did not happen: the code the page shows (`/login?error=`)
//! and the reason for the log, which the page never shows.

use porter_shared::http::ApiError;

/// Why a sign-in did not happen: the code the page shows, and the reason for the log.
pub(crate) struct Failure {
    pub code: &'static str,
    pub reason: String,
}

pub(crate) fn fail(code: &'static str, reason: impl Into<String>) -> Failure {
    Failure {
        code,
        reason: reason.into(),
    }
}

pub(crate) const FAILED: &str = "sso_failed";
pub(crate) const EXPIRED: &str = "sso_expired";
/// Porter's own dependency failed: the person may simply try again.
pub(crate) const UNAVAILABLE: &str = "service_unavailable";

pub(crate) fn internal(e: impl std::fmt::Display) -> Failure {
    tracing::error!(error = %e, "single sign-on: a dependency failed");
    fail(UNAVAILABLE, "a dependency failed")
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        let code = if e.status == lambda_http::http::StatusCode::SERVICE_UNAVAILABLE {
            UNAVAILABLE
        } else {
            FAILED
        };
        fail(code, e.message)
    }
}
