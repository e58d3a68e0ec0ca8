//! `make dev`'s demo app (`infra/idp/demo-app.mjs`, npm `openid-client`): a first-party app
//! on 127.0.0.1 that signs in with Porter's OpenID provider. Registered here as an operator
//! would with `porterctl client create`, once its port is known; the client id and secret
//! reach it on stdin (never on a command line). Gone when its parent goes.

use crate::moto::{read_port, repo_root};
use anyhow::{bail, Context};
use porter_shared::clients::{self, NewClient};
use porter_shared::domain::{ClientId, Timestamp};
use porter_shared::AppState;
use secrecy::ExposeSecret;
use std::io::Write;
use std::process::{Child, Command, Stdio};

pub struct DemoApp {
    child: Child,
    pub port: u16,
    pub client: ClientId,
}

impl DemoApp {
    /// Starts the app, registers it as "Demo app" and hands it its credentials.
    pub async fn start(app: &AppState) -> anyhow::Result<Self> {
        let dir = repo_root().join("infra/idp");
        if !dir.join("node_modules/openid-client").exists() {
            bail!(
                "{} has no openid-client: run `make idp` (npm ci there)",
                dir.display()
            );
        }
        let log = std::env::temp_dir().join(format!("porter-demo-app-{}.log", std::process::id()));
        let mut child = Command::new("node")
            .arg(dir.join("demo-app.mjs"))
            .args(["--port", "0"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting node for the demo app")?;
        let port = read_port(&mut child, &log, "the demo app")?;
        let base = format!("http://127.0.0.1:{port}");
        let new = NewClient {
            name: "Demo app".into(),
            redirect_uris: vec![format!("{base}/callback")],
            post_logout_redirect_uris: vec![format!("{base}/")],
            public: false,
        };
        let (client, secret) = clients::register(app, new, Timestamp::now()).await?;
        let settings = serde_json::json!({
            "issuer": app.config.public_base_url.as_str().trim_end_matches('/'),
            "client_id": client.id,
            "client_secret": secret.as_ref().map(|s| s.expose_secret()),
        });
        let stdin = child.stdin.as_mut().context("the demo app's stdin")?;
        writeln!(stdin, "{settings}")?;
        stdin.flush()?;
        Ok(Self {
            child,
            port,
            client: client.id,
        })
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for DemoApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
