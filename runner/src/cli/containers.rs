//! `pipekit-ci down` and `pipekit-ci gc`: removing what runs left in the container engine.

use super::error::CliError;
use super::load::locate;
use crate::executor::{DockerError, Engine, Removed, collect_garbage, take_down};
use std::path::PathBuf;

pub fn down(file: &Option<PathBuf>) -> Result<u8, CliError> {
    let path = locate(file)?;
    let path = std::path::absolute(&path).map_err(|error| {
        CliError::Environment(format!("cannot resolve `{}`: {error}", path.display()))
    })?;
    let removed = with_engine(|engine| async move { take_down(&engine, &path).await })?;
    eprintln!("down: {}", describe(removed));
    Ok(0)
}

pub fn gc() -> Result<u8, CliError> {
    let removed = with_engine(|engine| async move { collect_garbage(&engine).await })?;
    eprintln!("gc: {}", describe(removed));
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
