//! `pipekit-ci down` and `pipekit-ci gc`: removing what runs left in the container engine.

use super::error::CliError;
use super::load::locate;
use super::run_places::{pipeline_file_label, report_dead_runs, run_base_of};
use crate::executor::{DockerError, Engine, Removed, collect_garbage, take_down};
use crate::recovery::recover_dead_runs;
use crate::session::runs_dir;
use std::path::PathBuf;

pub fn down(file: &Option<PathBuf>) -> Result<u8, CliError> {
    let path = locate(file)?;
    let path = pipeline_file_label(&path);
    let removed = with_engine(|engine| async move { take_down(&engine, &path).await })?;
    err_println!("down: {}", describe(removed));
    Ok(0)
}

/// Dead runs of the pipeline file (`-f FILE`, else the default one, else the current
/// directory's `.pipekit/runs/`), then every container and network of a dead owner.
pub fn gc(file: &Option<PathBuf>) -> Result<u8, CliError> {
    let run_base = match locate(file) {
        Ok(path) => std::path::absolute(&path)
            .ok()
            .and_then(|path| path.parent().map(run_base_of)),
        Err(error) if file.is_some() => return Err(error),
        Err(_) => None,
    }
    .unwrap_or_else(|| PathBuf::from("."));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Environment(format!("cannot start the runtime: {error}")))?;
    let recovered = runtime.block_on(recover_dead_runs(&runs_dir(&run_base)));
    report_dead_runs(&recovered);
    drop(runtime);
    err_println!(
        "gc: {} dead run{} in {}",
        recovered.len(),
        if recovered.len() == 1 { "" } else { "s" },
        runs_dir(&run_base).display()
    );
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
            let host = std::env::var("DOCKER_HOST").ok();
            let engine = Engine::connect(host.as_deref()).await?;
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
