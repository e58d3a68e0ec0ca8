//! Porter's shared crate: everything two functions would otherwise write twice.
//!
//! Layers point one way: functions → [`auth`] → [`store`] → [`domain`].
//!
//! - [`domain`]: entities and pure rules (users, sessions, tokens, throttling, audit events);
//!   the time and the RNG are passed in.
//! - [`store`]: the single DynamoDB table, the only module that speaks DynamoDB.
//! - [`credentials`]: pure credential code: argon2id, TOTP, recovery codes, the seed
//!   envelope, ID tokens, platform keys, WebAuthn.
//! - [`auth`]: request guards that take the `AppState`: sessions, access, guess limits, second
//!   factors, and [`auth::sign_in`], the one door from a proved factor to a session.
//! - [`mail`]: SES v2 and the email templates. [`secrets`]: Secrets Manager.
//! - [`outbound`]: calls to servers an admin named, checked against SSRF, capped and timed.
//! - [`dns`]: TXT lookups for domain verification (`PORTER_DNS_SERVERS` or the system's).
//! - [`invitations`]: (re)issuing invitation and reset links.
//! - [`tenants`]: the operator's workflows (register, suspend, resume, single sign-on,
//!   break-glass), above `invitations` and `sso`.
//! - [`sso`]: discovery, client secrets and starting a sign-in at a provider.
//! - [`providers`]: what an instance keeps of providers: key sets and client secrets.
//! - [`platform`]: the platform key material in Secrets Manager and the platform's base URL.
//! - [`telemetry`]: structured logs, filtered by `RUST_LOG`.
//! - [`http`]: the route table, request parsing, JSON errors, security headers.
//! - [`config`] and [`state`]: typed configuration read once, clients built once per cold start.

pub mod access_tokens;
pub mod auth;
pub mod breached;
pub mod clients;
pub mod config;
pub mod credentials;
pub mod deliveries;
pub mod dns;
pub mod domain;
pub mod http;
pub mod invitations;
pub mod mail;
pub mod outbound;
pub mod platform;
pub mod providers;
pub mod secrets;
#[cfg(feature = "sms")]
pub mod sms;
pub mod sso;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod tenants;

pub use config::Config;
pub use state::{AppState, Routes};

/// The `main` of a function fed events other than HTTP requests (the `mailer`'s SQS batches,
/// the `authorizer`'s API Gateway requests): tracing, configuration and clients once per cold
/// start, then the Lambda runtime calling `handler(&state, event)`.
#[macro_export]
macro_rules! event_main {
    ($handler:path) => {
        // One thread, as for the HTTP functions: Lambda hands an instance one event at a time.
        #[tokio::main(flavor = "current_thread")]
        async fn main() -> Result<(), lambda_runtime::Error> {
            $crate::telemetry::init();
            let state = $crate::AppState::from_env().await?;
            let state = &state;
            lambda_runtime::run(lambda_runtime::service_fn(
                move |event: lambda_runtime::LambdaEvent<_>| async move {
                    Ok::<_, lambda_runtime::Error>($handler(state, event.payload).await)
                },
            ))
            .await
        }
    };
}

/// The `main` of an HTTP function: tracing, configuration and clients once, then the handler
/// for each request.
#[macro_export]
macro_rules! lambda_main {
    ($handler:path) => {
        // One thread: Lambda hands an instance one event at a time, and a second worker
        // would only add wake-ups between threads to every request (CPU Lambda bills).
        #[tokio::main(flavor = "current_thread")]
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
