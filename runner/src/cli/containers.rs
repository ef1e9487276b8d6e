//! `pipekit-ci down` and `pipekit-ci gc`: removing what runs left in the container engine.

use super::error::CliError;
use super::load::locate;
use crate::executor::{DockerError, Engine, Removed, collect_garbage, take_down};
use std::path::{Path, PathBuf};

/// How a run names its pipeline file on its containers, so `down` finds them however the
/// path was spelled (`../pipekit.yml`, a symlink).
pub fn pipeline_file_label(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

pub fn down(file: &Option<PathBuf>) -> Result<u8, CliError> {
    let path = locate(file)?;
    let path = pipeline_file_label(&path);
    let removed = with_engine(|engine| async move { take_down(&engine, &path).await })?;
    err_println!("down: {}", describe(removed));
    Ok(0)
}

pub fn gc() -> Result<u8, CliError> {
    let removed = with_engine(|engine| async move { collect_garbage(&engine).await })?;
    err_println!("gc: {}", describe(removed));
    Ok(0)
}

fn with_engine<F, Fut>(work: F) -> Result<Removed, CliError>
where
    F: FnOnce(Engine) -> Fut,
    Fut: std::future::Future<Output = Result<Removed, DockerError>>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Environment(format!("cannot start the runtime: {error}")))?;
    runtime
        .block_on(async {
            let engine = Engine::connect().await?;
            work(engine).await
        })
        .map_err(|error| CliError::Environment(error.to_string()))
}

fn describe(removed: Removed) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "removed {} and {}",
        plural(removed.containers, "container"),
        plural(removed.networks, "network")
    )
}
