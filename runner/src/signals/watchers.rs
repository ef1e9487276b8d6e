//! Polling watchers for `Exists`, `Port` and healthchecks. Each runs until its signal fires
//! and is aborted when the job ends.

use crate::executor::JobControl;
use pipekit_schema::Healthcheck;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// Short enough that a file or port is seen within ~10 ms, cheap enough for many watchers.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(200);

/// Resolves once `path` exists.
pub async fn watch_exists(path: PathBuf) {
    loop {
        if tokio::fs::symlink_metadata(&path).await.is_ok() {
            return;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Resolves once `address:port` accepts a TCP connection.
pub async fn watch_port(address: IpAddr, port: u16) {
    let target = SocketAddr::new(address, port);
    loop {
        if let Ok(Ok(_)) = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(target)).await {
            return;
        }
        tokio::time::sleep(POLL_INTERVAL * 2).await;
    }
}

/// Runs the healthcheck until it passes (`Ok`) or fails `retries` times in a row after
/// the start period (`Err` with the reason).
pub async fn watch_health(
    control: Arc<dyn JobControl>,
    argv: Vec<String>,
    check: Healthcheck,
) -> Result<(), String> {
    let started = tokio::time::Instant::now();
    let mut failures = 0;
    loop {
        if control.probe(&argv, check.timeout).await.unwrap_or(false) {
            return Ok(());
        }
        // Failures during the start period do not count, as in Compose.
        if started.elapsed() >= check.start_period {
            failures += 1;
            if failures >= check.retries.max(1) {
                return Err(format!("healthcheck failed {failures} times in a row"));
            }
        }
        tokio::time::sleep(check.interval).await;
    }
}
