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

/// An OAuth error code as the trail may keep it: one of RFC 6749's (§4.1.2.1, §5.2), else
/// `unknown`. The rest of what a provider or a crafted link says never reaches the trail.
pub(crate) fn oauth_error(raw: &str) -> &'static str {
    const CODES: [&str; 10] = [
        "invalid_request",
        "unauthorized_client",
        "access_denied",
        "unsupported_response_type",
        "invalid_scope",
        "server_error",
        "temporarily_unavailable",
        "invalid_client",
        "invalid_grant",
        "unsupported_grant_type",
    ];
    CODES.into_iter().find(|c| *c == raw).unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::oauth_error;

    #[test]
    fn only_rfc_6749_error_codes_reach_the_trail() {
        assert_eq!(oauth_error("access_denied"), "access_denied");
        assert_eq!(oauth_error("invalid_grant"), "invalid_grant");
        assert_eq!(oauth_error("<script>call 555-0100</script>"), "unknown");
        assert_eq!(oauth_error(""), "unknown");
    }
}
