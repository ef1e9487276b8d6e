//! The run itself, and what follows its last job: the records, the reports, the outcome.

use super::error::with_cause;
use super::outcome::{Problem, RunOutcome};
use super::prepare::{PreparedRun, mask};
use crate::executor::{Executor, Executors};
use crate::recovery::release;
use crate::report::{RunRecord, write_junit, write_run_json};
use crate::run::{ProblemKind, Reporter, RunContext, RunOptions, execute};
use crate::secrets::Masker;
use crate::storage::{FolderStore, REPORT_RESERVE_BYTES, RunFolder, SpaceReserve};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

impl PreparedRun {
    /// Runs the jobs to the end, writes `run.json` and the JUnit reports from the run's
    /// events, and says how it went. Never fails: what goes wrong on the way is in
    /// [`RunOutcome::problems`], and in the events as `run_problem`.
    pub async fn run(self) -> RunOutcome {
        let PreparedRun {
            request,
            plan,
            secrets,
            folder,
            events,
            docker,
            local,
            reused,
            ..
        } = self;
        let pipeline = request.pipeline.clone();
        let masker = secrets.masker().clone();
        let reserve = SpaceReserve::claim(folder.space_reserve_path(), REPORT_RESERVE_BYTES);
        let engine_lost = docker.as_ref().map(|docker| docker.engine_lost());
        let mut reporters: Vec<Box<dyn Reporter>> = request.events;
        reporters.push(Box::new(events.clone()));
        let executors = Executors::new(
            Arc::new(local),
            docker.map(|docker| Arc::new(docker) as Arc<dyn Executor>),
        );
        let context = RunContext {
            pipeline: pipeline.clone(),
            folder: folder.clone(),
            workspaces: request.source.workspaces.clone(),
            pipeline_dir: request.source.pipeline_dir.clone(),
            run_variables: request
                .source
                .commit
                .as_ref()
                .map(crate::git::CommitInfo::variables)
                .unwrap_or_default(),
            executors,
            plan,
            options: RunOptions {
                fail_fast: request.options.fail_fast,
                only: request.options.only.clone(),
                stop_grace: request.options.stop_grace,
                keep_running: request.options.keep_running,
                log_limit: request.options.log_limit,
            },
            secrets: secrets.clone(),
            artifacts: Arc::new(FolderStore(folder.clone())),
            host_env: request.host_env.clone(),
            reused,
        };
        let interrupted = drive(context, reporters, request.cancel.into_messages()).await;

        let mut problems: Vec<Problem> = Vec::new();
        if let Some(lost) = engine_lost.as_ref().and_then(|lost| lost.get().cloned()) {
            events.problem(ProblemKind::EngineLost, &lost);
            problems.push(Problem::EngineLost(mask(&masker, &lost)));
        }
        if let Some(failure) = folder.write_failure() {
            events.problem(ProblemKind::WriteFailure, failure);
            problems.push(Problem::LogsIncomplete(mask(&masker, failure)));
        }
        // The reserved blocks are what the reports are written into when the logs filled
        // the disk.
        drop(reserve);
        // The record is the fold of the events as `events.jsonl` has them: masked already.
        let (end, reports) = events.finish_with_reports(|record| {
            write_reports(
                record,
                &folder,
                request.options.extra_junit.as_deref(),
                &masker,
            )
        });
        let record = end.record;
        if let Err(why) = reports {
            // run.json must not say `passed` for a run that ends with exit 3.
            let _ = write_run_json(&record, &folder.run_json_path());
            problems.push(Problem::Reports(mask(&masker, &why)));
        }
        release(&folder);
        RunOutcome {
            record,
            run_dir: folder.root().to_path_buf(),
            interrupted,
            problems,
            exit_code: end.exit_code,
        }
    }
}

/// Runs the driver on a task of its own, so that the jobs' events are handled by whichever
/// worker thread is awake instead of waking the caller's thread for each (on the 500-job
/// DAG about 2,000 wake-ups, 3 to 10 ms of its wall time). Dropping the future stops the
/// driver, as if it ran inline. Whether the run was interrupted.
async fn drive(
    context: RunContext,
    mut reporters: Vec<Box<dyn Reporter>>,
    interrupts: UnboundedReceiver<()>,
) -> bool {
    let mut driver = AbortOnDrop(tokio::spawn(async move {
        execute(context, &mut reporters, interrupts).await
    }));
    match (&mut driver.0).await {
        Ok(interrupted) => interrupted,
        Err(error) => match error.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            // Only a runtime shutting down cancels it: the run did not get to its end.
            Err(_) => true,
        },
    }
}

/// Aborts the task when dropped, which a `JoinHandle` alone does not.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Writes `run.json`, `junit.xml` and the `--junit` copy; a failure says what the OS said.
fn write_reports(
    record: &RunRecord,
    folder: &RunFolder,
    extra_junit: Option<&Path>,
    masker: &Masker,
) -> Result<(), String> {
    let xml_masker = masker
        .with_xml_escapes()
        .map_err(|error| error.to_string())?;
    write_run_json(record, &folder.run_json_path()).map_err(with_cause)?;
    write_junit(record, folder.root(), &folder.junit_path(), &xml_masker).map_err(with_cause)?;
    if let Some(path) = extra_junit {
        write_junit(record, folder.root(), path, &xml_masker).map_err(with_cause)?;
    }
    Ok(())
}
