use super::response::json;
use http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::json as j;

/// Every error a client can see: a status, a stable machine code and a sentence for people.
/// Nothing internal (SDK errors, stack traces, secrets) is ever put in `message`; those go to
/// the log beside a request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_secs: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "There is nothing here.")
    }

    /// 404 `organization_not_found`: no organization of the caller's MSP (or not one they may
    /// work in) has this id; another MSP's is as unknown.
    pub fn organization_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "organization_not_found",
            "There is no such organization among the ones you manage.",
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "This method is not allowed here.",
        )
    }

    /// A dependency (DynamoDB, SES, Secrets Manager) failed: the client may retry.
    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "The service is temporarily unavailable. Please try again in a moment.",
        )
    }

    /// 429 with `Retry-After`.
    pub fn throttled(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            format!(
                "Too many attempts. Try again in {}.",
                human_wait(retry_after_secs)
            ),
        );
        e.retry_after_secs = Some(retry_after_secs);
        e
    }

    /// An email could not be sent; what it was for is kept, so asking again works.
    pub fn mail_unavailable(err: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %err, "email not sent");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "mail_unavailable",
            "We could not send the email just now. Please try again in a few minutes.",
        )
    }

    /// Logs an internal failure with its detail and answers 503 without it.
    pub fn internal(context: &str, err: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %err, "{context}");
        Self::unavailable()
    }

    pub fn into_response(self) -> Response<Body> {
        let mut resp = json(
            self.status,
            &j!({ "error": { "code": self.code, "message": self.message } }),
        );
        if let Some(secs) = self.retry_after_secs {
            if let Ok(v) = secs.to_string().parse() {
                resp.headers_mut().insert(http::header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

/// A store failure the flow did not expect is a dependency failure: logged with its detail,
/// answered 503 without it. (Expected conflicts are matched by the flows before this.)
impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal("storage request failed", &e)
    }
}

/// Secrets Manager failed (or the service secret is missing): a dependency failure, 503.
impl From<crate::secrets::SecretsError> for ApiError {
    fn from(e: crate::secrets::SecretsError) -> Self {
        Self::internal("secret unavailable", &e)
    }
}

/// What a change to a tenant's people can run into, as every function that makes one answers it.
impl From<crate::store::members::MemberError> for ApiError {
    fn from(e: crate::store::members::MemberError) -> Self {
        use crate::store::members::MemberError;
        match e {
            MemberError::LimitReached => Self::new(
                StatusCode::CONFLICT,
                "user_limit_reached",
                "Your organisation has reached its user limit; contact your representative to add more.",
            ),
            MemberError::EmailTaken => Self::new(
                StatusCode::CONFLICT,
                "email_taken",
                "This email address is already registered.",
            ),
            MemberError::LastAdmin => Self::new(
                StatusCode::CONFLICT,
                "last_admin",
                "Your organisation needs at least one active admin. Make someone else an admin first; an invited admin counts once they have activated their account.",
            ),
            MemberError::Stale => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "This user changed meanwhile. Reload and try again.",
            ),
            MemberError::Store(e) => e.into(),
        }
    }
}

impl From<ApiError> for Response<Body> {
    fn from(e: ApiError) -> Self {
        e.into_response()
    }
}

fn human_wait(secs: u64) -> String {
    match secs {
        0..=1 => "a second".to_owned(),
        2..=59 => format!("{secs} seconds"),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", secs.div_ceil(60)),
    }
}
