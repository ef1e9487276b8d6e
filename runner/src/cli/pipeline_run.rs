//! One pipeline through the library's run session: the request built from the flags, the
//! console as the run's event sink, the outcome printed and turned into an exit code.

use super::args::{ExecutorChoice, RunArgs};
use super::console::Console;
use super::diagnosis::{diagnosis, summary_table};
use super::error::CliError;
use super::load::Loaded;
use super::run_places::report_dead_runs;
use crate::executor::{Engine, HostSupervisor};
use crate::git::CommitInfo;
use crate::run::Workspaces;
use crate::session::{
    CancelSignal, HostEnv, PreparedRun, RunPlan, RunRequest, RunSource, SessionError,
    SessionOptions,
};
use crate::storage::RunsDir;
use pipekit_schema::{JobId, Pipeline};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What every run of one `pipekit-ci run` shares: read from the process once.
pub(super) struct Invocation {
    pub(super) stop_grace: Duration,
    pub(super) log_limit: Option<u64>,
    pub(super) host_env: HostEnv,
    /// `DOCKER_HOST`, when set: where the engine is.
    pub(super) docker_host: Option<String>,
    pub(super) cancel: CancelSignal,
    pub(super) supervisor: Arc<HostSupervisor>,
}

/// One pipeline to run, and where.
pub(super) struct Subject {
    pub(super) loaded: Loaded,
    /// Where `.pipekit/runs/` goes: the directory of the pipeline file (see `run_base_of`).
    pub(super) run_base: PathBuf,
    /// What relative `env_file`, `build` and `volumes` paths are relative to.
    pub(super) pipeline_dir: PathBuf,
    /// Where `secrets: {file: …}` paths start.
    pub(super) secrets_dir: PathBuf,
    pub(super) workspaces: Workspaces,
    pub(super) commit: Option<CommitInfo>,
    /// The pipeline file as containers are labelled with it (for `down`).
    pub(super) label: PathBuf,
}

/// Runs one pipeline and prints its end; the spec's exit code.
pub(super) async fn run_pipeline(
    args: &RunArgs,
    invocation: &Invocation,
    subject: Subject,
) -> Result<u8, CliError> {
    let Subject {
        loaded: Loaded { parsed, path, .. },
        run_base,
        pipeline_dir,
        secrets_dir,
        workspaces,
        commit,
        label,
    } = subject;
    let pipeline = Arc::new(parsed.pipeline);
    let only = resolve_only(&pipeline, &args.only)?;
    let containers = args.executor != ExecutorChoice::Local;
    let plan = RunPlan::new(&pipeline, &only, containers);
    let images_ignored = args.executor == ExecutorChoice::Local
        && RunPlan::new(&pipeline, &only, true).needs_engine();
    if images_ignored {
        err_println!("note: --executor local: images are ignored, every command runs on this host");
    }
    let needs_engine = match args.executor {
        ExecutorChoice::Docker => true,
        ExecutorChoice::Auto => plan.needs_engine(),
        ExecutorChoice::Local => false,
    };
    let mut request = RunRequest {
        pipeline: pipeline.clone(),
        pipeline_file: path.display().to_string(),
        source: RunSource {
            workspaces,
            pipeline_dir,
            secrets_dir,
            commit,
            label,
        },
        runs: RunsDir::Beside(run_base),
        options: SessionOptions {
            fail_fast: args.fail_fast,
            only,
            stop_grace: invocation.stop_grace,
            containers,
            keep_running: args.keep_running,
            log_limit: invocation.log_limit,
            extra_junit: args.junit.clone(),
            reuse: None,
        },
        host_env: invocation.host_env.clone(),
        cancel: invocation.cancel.clone(),
        engine: None,
        supervisor: invocation.supervisor.clone(),
        events: vec![Box::new(Console::new(
            pipeline.clone(),
            std::io::stderr().is_terminal() && !args.no_progress,
        ))],
    };
    // Secrets first, then the engine: a missing secret or an engine that is not there stops
    // the run before its folder is made.
    if needs_engine {
        crate::secrets::RunSecrets::resolve(
            &pipeline,
            |id| plan.in_scope(id),
            &request.source.secrets_dir,
            |variable| request.host_env.get(variable).map(Into::into),
        )
        .map_err(|error| CliError::Environment(error.to_string()))?;
        let engine = Engine::connect(invocation.docker_host.as_deref())
            .await
            .map_err(|error| CliError::Environment(error.to_string()))?;
        request.engine = Some(engine);
    }
    let prepared = PreparedRun::prepare(request).await.map_err(from_session)?;
    report_dead_runs(prepared.recovered());
    let outcome = prepared.run().await;
    err_print!("\n{}", summary_table(&outcome.record));
    if let Some(text) = diagnosis(&outcome.record, &outcome.run_dir) {
        err_print!("\n{text}");
    }
    err_println!("\nreports: {}", outcome.run_dir.display());
    if !outcome.problems.is_empty() {
        let problems: Vec<String> = outcome.problems.iter().map(ToString::to_string).collect();
        return Err(CliError::Environment(problems.join("\nerror: ")));
    }
    Ok(outcome.exit_code())
}

pub(super) fn from_session(error: SessionError) -> CliError {
    match error {
        SessionError::InvalidInput(text) => CliError::InvalidInput(text),
        SessionError::Environment(text) => CliError::Environment(text),
        SessionError::Reuse(error) if error.is_invalid_input() => {
            CliError::InvalidInput(error.to_string())
        }
        SessionError::Reuse(error) => {
            let mut text = error.to_string();
            let mut cause = std::error::Error::source(&error);
            while let Some(next) = cause {
                text = format!("{text}: {next}");
                cause = next.source();
            }
            CliError::Environment(text)
        }
    }
}

fn resolve_only(pipeline: &Pipeline, names: &[String]) -> Result<Vec<JobId>, CliError> {
    names
        .iter()
        .map(|name| {
            pipeline.find_job(name).ok_or_else(|| {
                let known: Vec<&str> = pipeline.jobs.iter().map(|j| j.name.as_str()).collect();
                CliError::InvalidInput(format!(
                    "--only `{name}`: no such job; the jobs are {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}
