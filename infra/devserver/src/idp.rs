//! The local OpenID providers (`infra/idp/server.mjs`, npm `oidc-provider`) as a child
//! process on 127.0.0.1: a generic provider at its root and an Entra ID stand-in under
//! `/<directory>/v2.0`. Gone when its parent goes (it exits when its stdin closes).

use crate::moto::{read_port, repo_root};
use anyhow::{bail, Context};
use std::process::{Child, Command, Stdio};

/// The Entra ID directory the stand-in serves.
pub const DIRECTORY: &str = "11111111-2222-3333-4444-555555555555";
pub const CLIENT_ID: &str = "porter-dev";
/// The stand-in's own development credential; it protects nothing real.
pub const CLIENT_SECRET: &str = "porter-dev-client-secret";

pub struct DevIdp {
    child: Child,
    pub port: u16,
}

impl DevIdp {
    /// Starts the providers, accepting `redirect_uri` as the client's callback.
    pub fn start(redirect_uri: &str) -> anyhow::Result<Self> {
        let dir = repo_root().join("infra/idp");
        if !dir.join("node_modules/oidc-provider").exists() {
            bail!(
                "{} has no node_modules: run `make idp` (npm ci there)",
                dir.display()
            );
        }
        let log = std::env::temp_dir().join(format!("porter-idp-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log)?;
        let mut child = Command::new("node")
            .arg(dir.join("server.mjs"))
            .args(["--port", "0", "--redirect-uri", redirect_uri])
            .args(["--entra-directory", DIRECTORY])
            .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .context("starting node for the local identity provider")?;
        let port = read_port(&mut child, &log, "the local identity provider")?;
        Ok(Self { child, port })
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.base())
    }
}

impl Drop for DevIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
