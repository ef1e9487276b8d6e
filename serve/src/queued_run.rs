//! One queued run, tested as `pipekit-ci run --commit SHA -f FILE` tests it: the pipeline
//! file read from the commit, the tree exported for the jobs' checkouts, the run through
//! the session into `runs/<repository>/<run id>/`.

use crate::service::Service;
use crate::store::{RerunJobs, RunRow, RunState};
use pipekit_runner::commit_test::{CommitPlan, FileOutcome, PipelineChoice, export};
use pipekit_runner::git::{Checkouts, CommitInfo, Revision, SourceRepo};
use pipekit_runner::report::RunStatus;
use pipekit_runner::run::{Reporter, Workspaces};
use pipekit_runner::session::{
    CancelSignal, PreparedRun, RerunSelection, Reuse, RunOutcome, RunPlan, RunRequest, RunSource,
    SessionOptions,
};
use pipekit_runner::storage::RunsDir;
use pipekit_schema::{Parsed, Pipeline};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How a queued run ended, for the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    pub state: RunState,
    /// Why it ended errored or invalid, when no report of its own says it.
    pub problem: Option<String>,
}

impl RunEnd {
    fn problem(state: RunState, problem: impl Into<String>) -> RunEnd {
        RunEnd {
            state,
            problem: Some(problem.into()),
        }
    }
}

/// Tests `row`'s pipeline file at its commit, its events also to the reporters
/// `reporters` makes for its pipeline once read. `started` hears the run folder's id as
/// soon as it exists. Never fails: what goes wrong is the
/// run's end, `errored` with why.
pub async fn test_queued_run(
    service: &Service,
    row: &RunRow,
    cancel: CancelSignal,
    reporters: impl FnOnce(&Pipeline) -> Vec<Box<dyn Reporter>>,
    started: impl FnOnce(&str),
) -> RunEnd {
    let Some(repository) = service.repositories.get(&row.repository) else {
        return RunEnd::problem(
            RunState::Errored,
            format!("the repository `{}` is not served any more", row.repository),
        );
    };
    let Checkout {
        parsed,
        commit,
        checkouts,
    } = match checkout(service, repository, row, &cancel) {
        Ok(checkout) => checkout,
        Err(end) => return end,
    };
    let folder = Path::new(&row.pipeline)
        .parent()
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let pipeline_dir = checkouts.exported().join(&folder);
    let events = reporters(&parsed.pipeline);
    let pipeline = Arc::new(parsed.pipeline);
    // As `run` does: the engine only for a run that has container jobs, so that a run of
    // host jobs never waits for it (its network, its cleanup).
    let engine = match RunPlan::new(&pipeline, &[], true).needs_engine() {
        true => service.engine.clone(),
        false => None,
    };
    let request = RunRequest {
        pipeline,
        pipeline_file: row.pipeline.clone(),
        source: RunSource {
            workspaces: Workspaces::PerJob {
                checkouts,
                set: "0".to_owned(),
            },
            secrets_dir: service.secrets_dir(&row.repository).join(&folder),
            pipeline_dir,
            commit: Some(commit),
            label: repository.join(&row.pipeline),
        },
        runs: RunsDir::At(service.runs_dir(&row.repository)),
        options: SessionOptions {
            fail_fast: false,
            only: Vec::new(),
            stop_grace: service.stop_grace,
            // Jobs with an image need the engine: without one they fail saying so, rather
            // than running on the host unasked.
            containers: true,
            keep_running: false,
            log_limit: service.log_limit,
            extra_junit: None,
            reuse: reuse_of(service, row),
        },
        host_env: service.host_env.clone(),
        cancel,
        engine,
        supervisor: service.supervisor.clone(),
        events,
    };
    let prepared = match PreparedRun::prepare(request).await {
        Ok(prepared) => prepared,
        Err(error) => return RunEnd::problem(RunState::Errored, error.to_string()),
    };
    started(prepared.run_id());
    end_of(&prepared.run().await)
}

/// What a re-run of only some jobs reuses: the jobs it does not run again, from the
/// earlier run's folder (the runner refuses, before any job starts, a job there that did
/// not pass).
fn reuse_of(service: &Service, row: &RunRow) -> Option<Reuse> {
    let partial = row.rerun.as_ref()?;
    Some(Reuse {
        from: service
            .runs_dir(&row.repository)
            .join(&partial.reuse_folder),
        rerun: match &partial.jobs {
            RerunJobs::Named(jobs) => RerunSelection::Jobs(jobs.clone()),
            RerunJobs::Failed => RerunSelection::Failed,
        },
    })
}

/// The validated pipeline of a queued run and its commit, checked out.
struct Checkout {
    parsed: Parsed,
    commit: CommitInfo,
    checkouts: Arc<Checkouts>,
}

/// Reads the run's pipeline file from its commit and exports the tree. Not async: the
/// repository is not `Sync`, so no future may hold it.
fn checkout(
    service: &Service,
    repository: &Path,
    row: &RunRow,
    cancel: &CancelSignal,
) -> Result<Checkout, RunEnd> {
    let errored = |why: String| RunEnd::problem(RunState::Errored, why);
    let repo = SourceRepo::open(repository, false).map_err(|error| errored(error.to_string()))?;
    let choice = PipelineChoice::File(PathBuf::from(&row.pipeline));
    let revision = Revision::Commit(row.commit.clone());
    let mut plan = CommitPlan::read(&repo, &revision, None, &choice)
        .map_err(|error| errored(error.to_string()))?;
    let file = plan
        .files
        .pop()
        .ok_or_else(|| errored("the commit has no such pipeline file".to_owned()))?;
    let parsed = match file.outcome {
        FileOutcome::Run(parsed) => parsed,
        // Without a push nothing is "not triggered"; the file is run as asked.
        FileOutcome::NotTriggered(why) => return Err(errored(why)),
        FileOutcome::Unreadable(error) => {
            return Err(RunEnd::problem(RunState::Invalid, error.to_string()));
        }
        FileOutcome::Invalid { problems, .. } => {
            return Err(RunEnd::problem(RunState::Invalid, problems.render(false)));
        }
    };
    let checkouts_dir = service.data_dir.join("checkouts");
    std::fs::create_dir_all(&checkouts_dir).map_err(|error| {
        errored(format!(
            "cannot create `{}`: {error}",
            checkouts_dir.display()
        ))
    })?;
    match export(&repo, plan.tree, &checkouts_dir, cancel) {
        Ok(checkouts) => Ok(Checkout {
            parsed,
            commit: plan.commit,
            checkouts: Arc::new(checkouts),
        }),
        Err(_) if cancel.is_cancelled() => Err(RunEnd {
            state: RunState::Interrupted,
            problem: None,
        }),
        Err(error) => Err(errored(error.to_string())),
    }
}

fn end_of(outcome: &RunOutcome) -> RunEnd {
    if !outcome.problems.is_empty() {
        let why: Vec<String> = outcome.problems.iter().map(ToString::to_string).collect();
        return RunEnd::problem(RunState::Errored, why.join("; "));
    }
    let state = match outcome.status() {
        RunStatus::Passed => RunState::Passed,
        RunStatus::Failed => RunState::Failed,
        RunStatus::Interrupted => RunState::Interrupted,
        RunStatus::Errored | RunStatus::Running => RunState::Errored,
    };
    RunEnd {
        state,
        problem: None,
    }
}
