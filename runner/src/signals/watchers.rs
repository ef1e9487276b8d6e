//! Polling watchers for `Exists` and healthchecks (`Port` is in `port.rs`). Each runs until its signal fires
//! and is aborted when the job ends.

use crate::executor::JobControl;
use pipekit_schema::Healthcheck;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Short enough that a file is seen within ~10 ms, cheap enough for many watchers.
const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// Resolves once `path` exists.
pub async fn watch_exists(path: PathBuf) {
    loop {
        if tokio::fs::symlink_metadata(&path).await.is_ok() {
            return;
        }
        tokio::time::sleep(POLL_INTERVAL).await;
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
