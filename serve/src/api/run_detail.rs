//! One run with its jobs, as `GET /api/v1/runs/{id}` shows it: the stored run, and each
//! job as the run folder's `run.json` records it.

use super::run_view::{RunView, seconds_of};
use pipekit_runner::report::{JobRecord, JobState, RunRecord, TestTally};
use pipekit_runner::storage::rfc3339;
use serde::Serialize;
use std::time::{Duration, UNIX_EPOCH};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunView,
    /// Empty until the run has a folder with a record.
    pub jobs: Vec<JobView>,
    /// What its `junit.xml` counts, failures first on a page; `null` until it has one.
    pub tests: Option<TestTally>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobView {
    pub name: String,
    pub state: &'static str,
    pub exit_code: Option<i32>,
    pub reason: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Runs of the job in this run (retries come with issue 13).
    pub attempts: u32,
    pub signals: Vec<SignalView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignalView {
    pub name: String,
    /// Since the job started; `None` while it has not fired.
    pub after_seconds: Option<f64>,
}

impl RunDetail {
    /// `run` with the jobs of `record` (its `run.json`) and the tests of its report, if
    /// it has them.
    pub fn new(run: RunView, record: Option<&RunRecord>, tests: Option<TestTally>) -> RunDetail {
        let jobs = record.map_or_else(Vec::new, |record| {
            let start = seconds_of(&record.started_at);
            record.jobs.iter().map(|job| job_view(job, start)).collect()
        });
        RunDetail { run, jobs, tests }
    }
}

fn job_view(job: &JobRecord, run_start: Option<f64>) -> JobView {
    let at = |after: Option<f64>| -> Option<String> {
        let seconds = run_start? + after?;
        Some(rfc3339(
            UNIX_EPOCH + Duration::try_from_secs_f64(seconds).ok()?,
        ))
    };
    let started = job.started_after_seconds;
    let finished = match (job.state, started, job.duration_seconds) {
        (JobState::Waiting | JobState::Running, ..) => None,
        (_, Some(started), Some(took)) => Some(started + took),
        _ => None,
    };
    JobView {
        name: job.name.clone(),
        state: job.state.as_str(),
        exit_code: job.exit_code,
        reason: job.reason.clone(),
        started_at: at(started),
        finished_at: at(finished),
        attempts: u32::from(started.is_some()),
        signals: job
            .signals
            .iter()
            .map(|signal| SignalView {
                name: signal.name.clone(),
                after_seconds: signal.fired_after_seconds,
            })
            .collect(),
    }
}
