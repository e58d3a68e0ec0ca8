//! The moto server as a child process: loopback only, one request at a time
//! (`infra/moto/serve.py`), and gone when its parent goes.

use anyhow::{bail, Context};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The repository root: `PORTER_ROOT`, or the nearest folder at or above the working
/// directory that holds `template.yaml` and `infra/moto/serve.py`. Never the folder the binary
/// was compiled in: cargo reuses a binary built from another checkout of the same commit, and
/// that checkout's moto and template may be gone or different.
pub fn repo_root() -> PathBuf {
    if let Some(root) = std::env::var_os("PORTER_ROOT") {
        return PathBuf::from(root);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    find_root(&cwd).unwrap_or(cwd)
}

fn find_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| {
            dir.join("template.yaml").is_file() && dir.join("infra/moto/serve.py").is_file()
        })
        .map(Path::to_path_buf)
}

/// The Python that has moto installed: `PORTER_PYTHON`, or the repository's `.venv`.
pub fn python() -> PathBuf {
    std::env::var_os("PORTER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv/bin/python"))
}

/// The port a child announced as its first line (`PORT <n>`); without one, the child is
/// stopped and the error shows the end of its log.
pub(crate) fn read_port(child: &mut Child, log: &Path, what: &str) -> anyhow::Result<u16> {
    let stdout = child.stdout.take().context("child stdout")?;
    let mut first = String::new();
    BufReader::new(stdout).read_line(&mut first)?;
    match first
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
    {
        Some(port) => Ok(port),
        None => {
            let _ = child.kill();
            let tail = std::fs::read_to_string(log).unwrap_or_default();
            bail!(
                "{what} did not start:\n{}",
                tail.lines().rev().take(20).collect::<Vec<_>>().join("\n")
            )
        }
    }
}

pub struct Moto {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
}

impl Moto {
    /// Starts moto on 127.0.0.1:`port` (0 for a free one) and waits until it listens.
    pub fn start(port: u16) -> anyhow::Result<Self> {
        let python = python();
        if !python.exists() {
            bail!(
                "{} not found: run `make venv` (or set PORTER_PYTHON to a Python with moto[server])",
                python.display()
            );
        }
        let log =
            std::env::temp_dir().join(format!("porter-moto-{}-{port}.log", std::process::id()));
        let log_file =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let mut child = Command::new(&python)
            .arg(repo_root().join("infra/moto/serve.py"))
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            // moto's own code must never reach out either.
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting moto with {}", python.display()))?;
        let port = read_port(&mut child, &log, "moto")?;
        Ok(Self { child, port, log })
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_found_from_any_folder_inside_the_checkout() {
        // cargo runs unit tests in the crate's folder, infra/devserver.
        let here = std::env::current_dir().unwrap_or_default();
        let root = find_root(&here).unwrap_or_default();
        assert!(
            root.join("infra/moto/serve.py").is_file(),
            "{}",
            root.display()
        );
        assert!(here.starts_with(&root));
        assert_eq!(find_root(Path::new("/")), None);
    }
}
