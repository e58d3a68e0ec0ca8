//! HTTP helpers shared by every function: JSON errors with stable codes, strict request
//! parsing (content type, size, shape), the CSRF origin check, security headers, and the route
//! table that puts them around every function's handlers.

mod error;
mod request;
mod response;
mod routes;

pub mod cookies;

pub use error::ApiError;
pub use request::{
    check_origin, client_ip, parse_json, query_param, user_agent, with_source_ip, MAX_BODY_BYTES,
};
pub use response::{
    attachment, empty, html, json, json_with_cookie, redirect, with_security_headers, Message,
    Notice,
};
pub use routes::{HandlerResult, PathParam, RouteState, Routes};

pub use lambda_http::{Body, Request, Response};
