//! HTTP helpers shared by every function: JSON errors with stable codes, strict request
//! parsing (content type, size, shape), the CSRF origin check and security headers.

mod error;
mod request;
mod response;

pub use error::ApiError;
pub use request::{check_origin, client_ip, parse_json, query_param, MAX_BODY_BYTES};
pub use response::{empty, html, json, json_with_cookie, redirect, with_security_headers};

pub use lambda_http::{Body, Request, Response};
