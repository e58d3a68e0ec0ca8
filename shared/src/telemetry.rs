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
    let _ = json(filter(), std::io::stdout).try_init();
}

/// The JSON subscriber `init` installs, writing to `writer`. fmt's own level is opened to
/// TRACE, else it would keep its default (INFO) and `RUST_LOG=debug` would show nothing: the
/// `Targets` filter alone decides. Callsites it turns off are cached as off, so this costs an
/// INFO-level function nothing.
fn json<W>(filter: Targets, writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .json()
        .with_max_level(Level::TRACE)
        .with_target(false)
        .with_current_span(false)
        .without_time()
        .with_ansi(false)
        .with_writer(writer)
        .finish()
        .with(filter)
}

/// A log sink for `tracing_subscriber`'s writer: every line written, kept for a test to read.
#[cfg(any(test, feature = "test-util"))]
#[derive(Clone, Default)]
pub struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(any(test, feature = "test-util"))]
impl CapturedLog {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines()).into_owned()
    }

    /// A test that panicked while writing leaves the lines it wrote readable.
    fn lines(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(any(test, feature = "test-util"))]
impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lines().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Human-readable logs for the dev server and CLI.
pub fn init_pretty() {
    let _ = tracing_subscriber::fmt()
        .with_max_level(Level::TRACE)
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

    /// What an operator who sets `RUST_LOG=info,porter_shared=debug` reads: that target's
    /// debug lines and everyone's info lines, as JSON, and nobody else's debug lines.
    #[test]
    fn a_debug_level_in_rust_log_shows_debug_lines_of_that_target_only() {
        let captured = CapturedLog::default();
        let sink = captured.clone();
        let subscriber = json(filter_from(Some("info,porter_shared=debug")), move || {
            sink.clone()
        });
        tracing::subscriber::with_default(subscriber, || {
            tracing::debug!(target: "porter_shared::credentials", ms = 17.5, "shown");
            tracing::debug!(target: "aws_smithy_runtime", "hidden");
            tracing::info!(target: "aws_smithy_runtime", "also shown");
        });
        let text = captured.text();
        let logged: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let messages: Vec<&str> = logged
            .iter()
            .map(|l| l["fields"]["message"].as_str().unwrap())
            .collect();
        assert_eq!(messages, ["shown", "also shown"], "{text}");
        assert_eq!(logged[0]["level"], "DEBUG");
        assert_eq!(logged[0]["fields"]["ms"], 17.5);
    }
}
