//! Everything before the first job: secrets, the run folder, its first `run.json`, the
//! container engine's side of the run. Any failure here leaves no run behind but a record.

use super::error::{SessionError, with_cause};
use super::request::RunRequest;
use super::reuse::ReusePlan;
use crate::executor::{DockerExecutor, LocalExecutor, Owner, RunIdentity};
use crate::recovery::{DeadRun, claim, recover_dead_runs, release};
use crate::report::{write_first_run_json, write_run_json};
use crate::run::{EventLog, ProblemKind, Recorder, ReusedJobs, RunHeader, RunPlan};
use crate::scheduler::may_overlap;
use crate::secrets::{Masker, RunSecrets};
use crate::storage::{RunFolder, RunsDir};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A run whose folder exists and whose jobs are about to start.
pub struct PreparedRun {
    pub(super) request: RunRequest,
    pub(super) plan: RunPlan,
    pub(super) secrets: Arc<RunSecrets>,
    pub(super) folder: Arc<RunFolder>,
    /// `events.jsonl`, which `run.json` and the JUnit reports are folds of.
    pub(super) events: EventLog,
    pub(super) docker: Option<DockerExecutor>,
    pub(super) local: LocalExecutor,
    /// A re-run's jobs taken over from the earlier run, their files already here.
    pub(super) reused: ReusedJobs,
    recovered: Vec<DeadRun>,
}

impl PreparedRun {
    /// Resolves the secrets, cleans up after dead runs of the same storage, creates the run
    /// folder and writes its first `run.json` (so even a run killed outright leaves a
    /// record), and starts the engine's side of the run.
    pub async fn prepare(request: RunRequest) -> Result<PreparedRun, SessionError> {
        let pipeline = request.pipeline.clone();
        let plan = RunPlan::new(&pipeline, &request.options.only, request.options.containers);
        // Before anything is started or written: a missing or unsafe secret stops the run.
        let secrets = RunSecrets::resolve(
            &pipeline,
            |id| plan.in_scope(id),
            &request.source.secrets_dir,
            |variable| request.host_env.get(variable).map(Into::into),
        )
        .map_err(|error| SessionError::Environment(error.to_string()))?;
        let secrets = Arc::new(secrets);
        // Decided before the folder is made: a refused reuse leaves nothing behind.
        let reuse = match &request.options.reuse {
            Some(reuse) => Some(ReusePlan::decide(&pipeline, reuse)?),
            None => None,
        };
        let masker = secrets.masker().clone();
        let environment = |text: String| SessionError::Environment(mask(&masker, &text));

        let names: Vec<&str> = pipeline.jobs.iter().map(|job| job.name.as_str()).collect();
        let recovered = recover_dead_runs(&request.runs.path()).await;
        let folder = RunFolder::create_in(&request.runs, &names).map_err(|error| {
            environment(format!(
                "{}; is the directory of the pipeline file writable, with space left?",
                with_cause(error)
            ))
        })?;
        claim(&folder).map_err(|error| environment(error.to_string()))?;
        let folder = Arc::new(folder);
        // run.json and junit.xml are folds over the events: the recorder follows the log.
        let recorder = Recorder::default();
        let header = RunHeader {
            pipeline_file: request.pipeline_file.clone(),
            commit: request.source.commit.clone(),
        };
        let events = EventLog::create(
            folder.clone(),
            &pipeline,
            |id| plan.in_scope(id),
            header,
            masker.clone(),
            recorder.clone(),
        )
        .map_err(|error| {
            release(&folder);
            environment(with_cause(error))
        })?;
        // Written now, so even a run killed outright leaves a record behind. The recorder
        // follows the masked events, so the commit message's secrets are masked already.
        write_first_run_json(&recorder.snapshot(), &folder.run_json_path()).map_err(|error| {
            events.problem(ProblemKind::Reports, &with_cause(&error));
            events.finish();
            release(&folder);
            environment(with_cause(error))
        })?;
        if let Some(reuse) = &reuse
            && let Err(error) = reuse.bring_over(&pipeline, &folder)
        {
            events.problem(ProblemKind::WriteFailure, &with_cause(&error));
            let _ = events.finish_with_reports(|record| {
                write_run_json(record, &folder.run_json_path()).map_err(with_cause)
            });
            release(&folder);
            return Err(error.into());
        }
        let docker = match request.engine.clone() {
            Some(engine) => {
                let identity = RunIdentity {
                    run_id: folder.id().to_string(),
                    pipeline_file: request.source.label.clone(),
                    owner: Owner::current(),
                };
                let containers = plan.container_jobs();
                let started = DockerExecutor::start(
                    engine,
                    identity,
                    may_overlap(&pipeline, &containers),
                    request.options.keep_running,
                )
                .await;
                match started {
                    Ok(docker) => Some(docker),
                    Err(error) => {
                        events.problem(ProblemKind::EngineUnavailable, &error.to_string());
                        let _ = events.finish_with_reports(|record| {
                            write_run_json(record, &folder.run_json_path()).map_err(with_cause)
                        });
                        release(&folder);
                        return Err(environment(error.to_string()));
                    }
                }
            }
            None => None,
        };
        let local = LocalExecutor::new(request.options.stop_grace, request.supervisor.clone());
        Ok(PreparedRun {
            request,
            plan,
            secrets,
            folder,
            events,
            docker,
            local,
            reused: reuse.map(|reuse| reuse.reused).unwrap_or_default(),
            recovered,
        })
    }

    /// The run's id, known before its jobs start.
    pub fn run_id(&self) -> &str {
        self.folder.id()
    }

    /// The run folder.
    pub fn run_dir(&self) -> &Path {
        self.folder.root()
    }

    /// Runs left behind by a pipekit-ci that died, cleaned up on the way.
    pub fn recovered(&self) -> &[DeadRun] {
        &self.recovered
    }

    pub fn plan(&self) -> &RunPlan {
        &self.plan
    }
}

/// `<storage root>/.pipekit/runs/`, where the runs of a pipeline file go.
pub fn runs_dir(storage_root: &Path) -> PathBuf {
    RunsDir::Beside(storage_root.to_owned()).path()
}

pub(super) fn mask(masker: &Masker, text: &str) -> String {
    masker.mask(text).into_owned()
}
