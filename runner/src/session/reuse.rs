//! A re-run that reuses jobs of an earlier run (spec 8's `rerun`): which jobs run again,
//! which are taken over as they ended there, and their files brought over.

use crate::report::{JobState, RunRecord};
use crate::run::{EVENTS_FILE, EventEnvelope, EventKind, Recorder, ReplayError, ReusedJobs};
use crate::scheduler::{RerunScope, ReusedJob};
use crate::storage::{PackSummary, ReusedFilesError, RunFolder, bring_over};
use pipekit_schema::{JobId, Pipeline, SignalId};
use std::io;
use std::path::PathBuf;

/// Run again only some jobs of an earlier run of the same pipeline; reuse the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reuse {
    /// The earlier run's folder.
    pub from: PathBuf,
    pub rerun: RerunSelection,
}

/// Which jobs run again, besides what [`RerunScope`] adds to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RerunSelection {
    /// These, by name.
    Jobs(Vec<String>),
    /// Those that did not pass in the earlier run (failed, skipped, cancelled).
    Failed,
}

impl Reuse {
    /// Whether a run of `pipeline` could reuse what this asks, as the run itself would
    /// decide before it starts: for a caller that queues the run to refuse it at once.
    /// Reads the earlier run's events (blocking).
    pub fn check(&self, pipeline: &Pipeline) -> Result<(), ReuseError> {
        ReusePlan::decide(pipeline, self).map(|_| ())
    }
}

/// Why a re-run cannot reuse what it was asked to.
#[derive(Debug, thiserror::Error)]
pub enum ReuseError {
    #[error("failed to read the events of the earlier run `{}`", path.display())]
    ReadEvents { path: PathBuf, source: io::Error },
    #[error("the events of the earlier run `{}` cannot be read back", path.display())]
    Replay { path: PathBuf, source: ReplayError },
    #[error("no job `{name}` to run again; the jobs are {known}")]
    UnknownJob { name: String, known: String },
    #[error(
        "job `{job}` cannot be reused: it was {state} in run {run}; run it again too, or \
         re-run the failed jobs"
    )]
    NotPassed {
        job: String,
        state: &'static str,
        run: String,
    },
    #[error("run {run} has no failed, skipped or cancelled job to run again")]
    NothingFailed { run: String },
    #[error("failed to bring the reused jobs' files over from run {run}")]
    BringOver {
        run: String,
        source: ReusedFilesError,
    },
}

impl ReuseError {
    /// Whether the request itself is wrong (exit 2), rather than the machine (exit 3).
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            ReuseError::UnknownJob { .. }
                | ReuseError::NotPassed { .. }
                | ReuseError::NothingFailed { .. }
        )
    }
}

/// The jobs a re-run takes over, decided before its folder exists.
#[derive(Debug, Clone)]
pub(super) struct ReusePlan {
    earlier: RunFolder,
    run: String,
    pub(super) reused: ReusedJobs,
}

impl ReusePlan {
    /// Reads the earlier run's events and decides: the jobs asked (or those that did not
    /// pass) and what [`RerunScope`] adds run again; every other job must have passed.
    pub(super) fn decide(pipeline: &Pipeline, reuse: &Reuse) -> Result<ReusePlan, ReuseError> {
        let path = reuse.from.join(EVENTS_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| ReuseError::ReadEvents {
            path: path.clone(),
            source,
        })?;
        let record = Recorder::replay(&text).map_err(|source| ReuseError::Replay {
            path: path.clone(),
            source,
        })?;
        let run = record.run_id.clone();
        let passed = |id: JobId| state_of(&record, &pipeline.job(id).name) == JobState::Passed;
        let asked: Vec<JobId> = match &reuse.rerun {
            RerunSelection::Jobs(names) => names
                .iter()
                .map(|name| {
                    pipeline
                        .find_job(name)
                        .ok_or_else(|| ReuseError::UnknownJob {
                            name: name.clone(),
                            known: known_jobs(pipeline),
                        })
                })
                .collect::<Result<_, _>>()?,
            RerunSelection::Failed => pipeline.job_ids().filter(|id| !passed(*id)).collect(),
        };
        if asked.is_empty() {
            return Err(ReuseError::NothingFailed { run });
        }
        let scope = RerunScope::new(pipeline, &asked);
        let archives = archives_of(&text);
        let mut reused = ReusedJobs::default();
        for id in scope.reused() {
            let job = pipeline.job(id);
            if !passed(id) {
                return Err(ReuseError::NotPassed {
                    job: job.name.clone(),
                    state: state_word(state_of(&record, &job.name)),
                    run,
                });
            }
            reused.jobs.push(ReusedJob {
                job: id,
                fired: fired_signals(&record, pipeline, id),
                run: run.clone(),
            });
            if let Some(summary) = archives.iter().find(|(name, _)| *name == job.name) {
                reused.archives.push((id, summary.1));
            }
        }
        Ok(ReusePlan {
            earlier: RunFolder::existing(&reuse.from),
            run,
            reused,
        })
    }

    /// Brings the reused jobs' files, and the shared root they wrote into, into the new
    /// run's folder.
    pub(super) fn bring_over(
        &self,
        pipeline: &Pipeline,
        folder: &RunFolder,
    ) -> Result<(), ReuseError> {
        let reused: Vec<&str> = self
            .reused
            .jobs
            .iter()
            .map(|reused| pipeline.job(reused.job).name.as_str())
            .collect();
        bring_over(&self.earlier, folder, &reused).map_err(|source| ReuseError::BringOver {
            run: self.run.clone(),
            source,
        })
    }
}

/// The job's final state in the record; a job the earlier run did not have in scope did
/// not pass there.
fn state_of(record: &RunRecord, job: &str) -> JobState {
    record
        .jobs
        .iter()
        .find(|known| known.name == job)
        .map_or(JobState::Waiting, |known| known.state)
}

fn state_word(state: JobState) -> &'static str {
    match state {
        JobState::Waiting => "never run",
        JobState::Running => "still running",
        JobState::Passed => "passed",
        JobState::Failed => "failed",
        JobState::Skipped => "skipped",
        JobState::Cancelled => "cancelled",
    }
}

fn known_jobs(pipeline: &Pipeline) -> String {
    let names: Vec<String> = pipeline
        .jobs
        .iter()
        .map(|job| format!("`{}`", job.name))
        .collect();
    names.join(", ")
}

/// The declared signals of `id` that fired in the earlier run.
fn fired_signals(record: &RunRecord, pipeline: &Pipeline, id: JobId) -> Vec<SignalId> {
    let job = pipeline.job(id);
    let Some(earlier) = record.jobs.iter().find(|known| known.name == job.name) else {
        return Vec::new();
    };
    job.signals
        .iter()
        .enumerate()
        .filter(|(_, signal)| {
            earlier
                .signals
                .iter()
                .any(|seen| seen.name == signal.name && seen.fired_after_seconds.is_some())
        })
        .map(|(index, _)| SignalId(index))
        .collect()
}

/// What each job's archive held, as the earlier run's `artifacts_packed` said: the new
/// run says it again for the archives it takes over. Lines that are no event (a partial
/// last line) were refused by the replay already, or are the partial one: skipped.
fn archives_of(text: &str) -> Vec<(String, PackSummary)> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<EventEnvelope>(line).ok())
        .filter_map(|envelope| match envelope.event {
            EventKind::ArtifactsPacked {
                job,
                bytes,
                files,
                compressed_bytes,
            } => Some((
                job,
                PackSummary {
                    files,
                    bytes,
                    compressed_bytes,
                },
            )),
            _ => None,
        })
        .collect()
}
