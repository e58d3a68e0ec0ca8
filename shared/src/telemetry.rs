//! Logging set up once per process. JSON lines, because CloudWatch Logs Insights reads them
//! field by field; no ANSI colours, and no timestamp because Lambda adds its own.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (tests, the dev server) is a no-op.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(false)
        .without_time()
        .with_ansi(false)
        .try_init();
}

/// Human-readable logs for the dev server and CLI.
pub fn init_pretty() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .compact()
        .try_init();
}
