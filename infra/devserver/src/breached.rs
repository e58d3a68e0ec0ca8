//! A stand-in for the breached-password range API (Have I Been Pwned's k-anonymity model) on
//! 127.0.0.1, over a small list, for `make dev` and the tests: `GET /range/<5 hex>` answers the
//! suffixes of the listed passwords under that prefix, padded with decoys of count 0 as the
//! real service does when asked for `Add-Padding: true`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::Router;
use porter_shared::breached::range_key;
use rand::RngCore;
use std::sync::Arc;

/// The passwords the stand-in calls breached: long enough and varied enough to pass the
/// strength rules, so that only the breach check refuses them.
pub const BREACHED: &[&str] = &[
    "correct horse battery staple", // pragma: allowlist secret
    "breached harbour lantern 42",  // pragma: allowlist secret
];

pub struct BreachedStandIn {
    pub port: u16,
}

impl BreachedStandIn {
    pub async fn start() -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let list: Arc<Vec<(String, String)>> =
            Arc::new(BREACHED.iter().map(|p| range_key(p)).collect());
        let app = Router::new()
            .route("/range/{prefix}", get(range))
            .with_state(list);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { port })
    }

    /// What `PORTER_BREACHED_PASSWORDS_URL` should be to ask it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/range/", self.port)
    }
}

async fn range(
    State(list): State<Arc<Vec<(String, String)>>>,
    Path(prefix): Path<String>,
    headers: HeaderMap,
) -> (StatusCode, String) {
    let prefix = prefix.to_ascii_uppercase();
    if prefix.len() != 5 || !prefix.bytes().all(|b| b.is_ascii_hexdigit()) {
        return (
            StatusCode::BAD_REQUEST,
            "The hash prefix was not in a valid format".into(),
        );
    }
    let mut lines: Vec<String> = list
        .iter()
        .filter(|(p, _)| *p == prefix)
        .map(|(_, suffix)| format!("{suffix}:{}", 1000 + suffix.len()))
        .collect();
    let padded = headers
        .get("add-padding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if padded {
        let mut rng = rand::rngs::OsRng;
        for _ in 0..20 {
            let mut decoy = [0u8; 18];
            rng.fill_bytes(&mut decoy);
            lines.push(format!("{}:0", &hex::encode_upper(decoy)[..35]));
        }
    }
    (StatusCode::OK, lines.join("\r\n"))
}
