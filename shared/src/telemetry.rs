//! Logging set up once per process. JSON lines, because CloudWatch Logs Insights reads them
//! field by field; no ANSI colours, and no timestamp because Lambda adds its own.
//!
//! `RUST_LOG` takes `level` or `target=level,...` (a `Targets` filter). Not `EnvFilter`: its
//! span and field directives need a regex engine, ~0.5 MB in every function binary, and
//! nothing here filters on them.

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn filter() -> Targets {
    filter_from(std::env::var("RUST_LOG").ok().as_deref())
}

/// `RUST_LOG`'s value when it parses, else `info`.
fn filter_from(rust_log: Option<&str>) -> Targets {
    rust_log
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO))
}

/// Installs the global subscriber; a second call (tests, the dev server) is a no-op.
pub fn init() {
    let _ = tracing_subscriber::fmt()
        .json()
        .with_target(false)
        .with_current_span(false)
        .without_time()
        .with_ansi(false)
        .finish()
        .with(filter())
        .try_init();
}

/// Human-readable logs for the dev server and CLI.
pub fn init_pretty() {
    let _ = tracing_subscriber::fmt()
        .with_target(false)
        .compact()
        .finish()
        .with(filter())
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_log_levels_and_targets_are_read_and_nonsense_falls_back_to_info() {
        let t = filter_from(Some("warn,porter_shared=debug"));
        assert!(t.would_enable("porter_shared::store", &Level::DEBUG));
        assert!(!t.would_enable("aws_smithy_runtime", &Level::INFO));
        assert!(filter_from(Some("trace")).would_enable("aws_sigv4", &Level::TRACE));
        for fallback in [filter_from(None), filter_from(Some("=nonsense=["))] {
            assert!(fallback.would_enable("porter_shared", &Level::INFO));
            assert!(!fallback.would_enable("porter_shared", &Level::DEBUG));
        }
    }
}
