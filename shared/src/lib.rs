//! Porter's shared crate: everything two functions would otherwise write twice.
//!
//! - [`domain`]: pure types and rules; the clock and the RNG are passed in.
//! - [`store`]: the single DynamoDB table.
//! - [`mail`]: SES v2 and the email templates.
//! - [`secrets`]: Secrets Manager.
//! - [`auth`]: credentials (password hashing for now).
//! - [`http`]: request parsing, JSON errors, security headers.
//! - [`config`] and [`state`]: typed configuration read once, clients built once per cold start.

pub mod auth;
pub mod config;
pub mod domain;
pub mod http;
pub mod invitations;
pub mod mail;
pub mod secrets;
pub mod state;
pub mod store;
pub mod telemetry;

pub use config::Config;
pub use state::AppState;

/// The `main` of every function binary: tracing, configuration and clients once per cold
/// start, then the Lambda runtime calling `handler(&state, request)` for each event.
#[macro_export]
macro_rules! lambda_main {
    ($handler:path) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_http::Error> {
            $crate::telemetry::init();
            let state = $crate::AppState::from_env().await?;
            let state = &state;
            lambda_http::run(lambda_http::service_fn(move |req| async move {
                Ok::<_, lambda_http::Error>($handler(state, req).await)
            }))
            .await
        }
    };
}
