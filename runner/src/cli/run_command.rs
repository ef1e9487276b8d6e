//! `pipekit-ci run`: the whole run, from the file to the reports and the exit code.

use super::args::{ExecutorChoice, RunArgs};
use super::console::Console;
use super::diagnosis::{diagnosis, summary_table};
use super::error::CliError;
use super::git_head::git_head;
use super::load::{Loaded, load};
use super::workspace::source_tree;
use crate::executor::LocalExecutor;
use crate::report::{RunRecord, RunStatus, write_junit, write_run_json};
use crate::run::{Recorder, Reporter, RunContext, RunOptions, execute, find_junit_files};
use crate::scheduler::Dispatcher;
use crate::storage::RunFolder;
use pipekit_schema::{JobId, Pipeline};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A job that needs more than an hour to stop is not stopping.
const MAX_STOP_GRACE: Duration = Duration::from_secs(3600);

pub fn run(args: RunArgs) -> Result<u8, CliError> {
    let Loaded { parsed, path, dir } = load(&args.file.file)?;
    let pipeline = Arc::new(parsed.pipeline);
    let only = resolve_only(&pipeline, &args.only)?;
    let stop_grace = Duration::try_from_secs_f64(args.stop_grace)
        .ok()
        .filter(|grace| *grace <= MAX_STOP_GRACE)
        .ok_or_else(|| {
            CliError::InvalidInput(format!(
                "--stop-grace takes a number of seconds from 0 to {}, not `{}`",
                MAX_STOP_GRACE.as_secs(),
                args.stop_grace
            ))
        })?;
    let scope = Dispatcher::new(pipeline.clone(), &only, false);
    check_executor(&pipeline, args.executor, |id| scope.in_scope(id))?;

    let names: Vec<&str> = pipeline.jobs.iter().map(|job| job.name.as_str()).collect();
    let folder = RunFolder::create(&dir, &names).map_err(|error| {
        CliError::Environment(format!(
            "{error}; is the directory of the pipeline file writable?"
        ))
    })?;
    let folder = Arc::new(folder);
    let workspace = source_tree(&dir);
    let recorder = Recorder::new(
        &pipeline,
        |id| scope.in_scope(id),
        &path.display().to_string(),
        folder.id(),
        &folder.started_at_rfc3339(),
    );
    // Written now, so even a run killed outright leaves a record behind.
    write_run_json(&recorder.snapshot(), &folder.run_json_path())
        .map_err(|error| CliError::Environment(error.to_string()))?;

    let live = std::io::stderr().is_terminal() && !args.no_progress;
    let mut reporters: Vec<Box<dyn Reporter>> = vec![
        Box::new(Console::new(pipeline.clone(), live)),
        Box::new(recorder.clone()),
    ];
    let context = RunContext {
        pipeline: pipeline.clone(),
        folder: folder.clone(),
        workspace: workspace.clone(),
        pipeline_dir: dir.clone(),
        run_variables: git_head(&workspace)
            .map(|head| head.variables())
            .unwrap_or_default(),
        executor: Arc::new(LocalExecutor::default()),
        options: RunOptions {
            fail_fast: args.fail_fast,
            only,
            stop_grace,
        },
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Environment(format!("cannot start the runtime: {error}")))?;
    let interrupted = runtime.block_on(async {
        let interrupts = listen_for_interrupts()?;
        Ok::<bool, CliError>(execute(context, &mut reporters, interrupts).await)
    })?;
    drop(reporters);

    for id in pipeline.job_ids() {
        let files = find_junit_files(&workspace, &pipeline.job(id).junit);
        recorder.set_junit_files(id, files.iter().map(|f| f.display().to_string()).collect());
    }
    let record = recorder.snapshot();
    write_reports(&record, &folder, args.junit.as_deref())?;
    eprint!("\n{}", summary_table(&record));
    if let Some(text) = diagnosis(&record, folder.root()) {
        eprint!("\n{text}");
    }
    eprintln!("\nreports: {}", folder.root().display());
    Ok(match record.status {
        RunStatus::Passed => 0,
        _ if interrupted => CliError::INTERRUPTED,
        _ => CliError::FAILED,
    })
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

/// Jobs with `image`/`build` need a container engine, which this version cannot drive yet.
fn check_executor(
    pipeline: &Pipeline,
    choice: ExecutorChoice,
    in_scope: impl Fn(JobId) -> bool,
) -> Result<(), CliError> {
    let container_job = pipeline
        .job_ids()
        .find(|id| in_scope(*id) && pipeline.job(*id).needs_container());
    match (choice, container_job) {
        (ExecutorChoice::Local, Some(_)) => {
            eprintln!(
                "note: --executor local: images are ignored, every command runs on this host"
            );
            Ok(())
        }
        (ExecutorChoice::Local | ExecutorChoice::Auto, None) => Ok(()),
        (ExecutorChoice::Auto, Some(id)) => {
            let job = pipeline.job(id);
            let what = job
                .image
                .as_ref()
                .map(|image| format!("image `{image}`"))
                .unwrap_or_else(|| "`build`".to_string());
            Err(CliError::Environment(format!(
                "job `{}` needs a container ({what}), and this version of pipekit-ci has no \
                 Docker executor yet; run it with `--executor local` to run every command on \
                 this host",
                job.name
            )))
        }
        (ExecutorChoice::Docker, _) => Err(CliError::Environment(
            "--executor docker: this version of pipekit-ci has no Docker executor yet; use \
             `--executor local`"
                .into(),
        )),
    }
}

/// SIGINT, SIGTERM, SIGHUP (a closed terminal) and SIGQUIT each send one message: the first
/// stops gracefully, the next forces. Jobs run in their own process groups, so without this
/// a hang-up would orphan them.
fn listen_for_interrupts() -> Result<mpsc::UnboundedReceiver<()>, CliError> {
    use tokio::signal::unix::{SignalKind, signal};
    let (sender, receiver) = mpsc::unbounded_channel();
    let install = |kind| {
        signal(kind).map_err(|e| CliError::Environment(format!("cannot handle signals: {e}")))
    };
    let mut interrupt = install(SignalKind::interrupt())?;
    let mut terminate = install(SignalKind::terminate())?;
    let mut hangup = install(SignalKind::hangup())?;
    let mut quit = install(SignalKind::quit())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = interrupt.recv() => {}
                Some(()) = terminate.recv() => {}
                Some(()) = hangup.recv() => {}
                Some(()) = quit.recv() => {}
                else => break,
            }
            if sender.send(()).is_err() {
                break;
            }
        }
    });
    Ok(receiver)
}

fn write_reports(
    record: &RunRecord,
    folder: &RunFolder,
    extra_junit: Option<&Path>,
) -> Result<(), CliError> {
    let failed = |error: crate::report::ReportError| CliError::Environment(error.to_string());
    write_run_json(record, &folder.run_json_path()).map_err(failed)?;
    write_junit(record, folder.root(), &folder.junit_path()).map_err(failed)?;
    if let Some(path) = extra_junit {
        write_junit(record, folder.root(), path).map_err(failed)?;
    }
    Ok(())
}
