//! Builds the run's [`RunRecord`] (run.json, and the JUnit report made from it) by
//! following its events.

use super::event::{Reporter, RunEvent};
use crate::report::{JobRecord, JobState, RunRecord, RunStatus, SignalRecord};
use crate::scheduler::{JobExit, Outcome};
use pipekit_schema::{JobId, Pipeline};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Keeps the [`RunRecord`] up to date; share it to read the record after the run.
#[derive(Debug, Clone)]
pub struct Recorder {
    record: Arc<Mutex<RunRecord>>,
    /// Per job: its index in the record (`None` outside `--only`).
    slots: Vec<Option<usize>>,
    /// Per job: when it started, relative to the run's start.
    started: Vec<Option<Duration>>,
    /// Per job: pipekit-ci stopped it (so its end was not its own doing).
    stopped: Vec<bool>,
    /// Per job: left running by `--keep-running`.
    left_running: Vec<bool>,
}

impl Recorder {
    /// A record with every job in scope waiting; jobs outside `--only` are left out.
    pub fn new(
        pipeline: &Pipeline,
        in_scope: impl Fn(JobId) -> bool,
        pipeline_file: &str,
        run_id: &str,
        started_at: &str,
    ) -> Self {
        let mut slots = vec![None; pipeline.jobs.len()];
        let in_scope: Vec<JobId> = pipeline.job_ids().filter(|id| in_scope(*id)).collect();
        for (slot, id) in in_scope.iter().enumerate() {
            slots[id.0] = Some(slot);
        }
        let jobs = in_scope
            .iter()
            .map(|id| pipeline.job(*id))
            .map(|job| JobRecord {
                name: job.name.clone(),
                state: JobState::Waiting,
                exit_code: None,
                started_after_seconds: None,
                duration_seconds: None,
                reason: None,
                signals: job
                    .signals
                    .iter()
                    .map(|s| SignalRecord {
                        name: s.name.clone(),
                        fired_after_seconds: None,
                    })
                    .collect(),
                log: format!("logs/{}.log", job.name),
                artifact: None,
                junit_files: Vec::new(),
            })
            .collect();
        let record = RunRecord {
            run_id: run_id.to_string(),
            pipeline: pipeline.name.clone(),
            pipeline_file: pipeline_file.to_string(),
            started_at: started_at.to_string(),
            duration_seconds: 0.0,
            status: RunStatus::Running,
            commit: None,
            jobs,
        };
        let started = vec![None; pipeline.jobs.len()];
        Self {
            record: Arc::new(Mutex::new(record)),
            slots,
            started,
            stopped: vec![false; pipeline.jobs.len()],
            left_running: vec![false; pipeline.jobs.len()],
        }
    }

    /// A copy of the record as it stands.
    pub fn snapshot(&self) -> RunRecord {
        self.record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Sets a job's JUnit files (found after it exited).
    pub fn set_junit_files(&self, job: JobId, files: Vec<String>) {
        let mut record = self
            .record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(slot) = self.slots[job.0] {
            record.jobs[slot].junit_files = files;
        }
    }

    /// Records the commit the run tests.
    pub fn set_commit(&self, commit: Option<crate::git::CommitInfo>) {
        let mut record = self
            .record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        record.commit = commit;
    }

    /// Marks the run as ended by an environment error.
    pub fn set_errored(&self) {
        let mut record = self
            .record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        record.status = RunStatus::Errored;
    }
}

impl Reporter for Recorder {
    fn on_event(&mut self, at: Duration, event: &RunEvent) {
        let mut record = self
            .record
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        record.duration_seconds = at.as_secs_f64();
        let slots = &self.slots;
        let slot = |job: &JobId| slots[job.0];
        match event {
            RunEvent::JobStopping { job: id, .. } => self.stopped[id.0] = true,
            RunEvent::JobStarted { job: id } => {
                self.started[id.0] = Some(at);
                let Some(slot) = slot(id) else { return };
                let job = &mut record.jobs[slot];
                job.state = JobState::Running;
                job.started_after_seconds = Some(at.as_secs_f64());
            }
            RunEvent::SignalFired { job: id, signal } => {
                let since_start = at.saturating_sub(self.started[id.0].unwrap_or_default());
                let Some(slot) = slot(id) else { return };
                let job = &mut record.jobs[slot];
                if let Some(signal) = job.signals.iter_mut().find(|s| &s.name == signal) {
                    signal.fired_after_seconds = Some(since_start.as_secs_f64());
                }
            }
            RunEvent::ArtifactsPacked { job: id, .. } => {
                let Some(slot) = slot(id) else { return };
                let job = &mut record.jobs[slot];
                job.artifact = Some(format!("artifacts/{}.tar.zst", job.name));
            }
            // After the job finished: it passed, but what it was to leave behind is missing.
            RunEvent::ArtifactsFailed { job: id, reason } => {
                let Some(slot) = slot(id) else { return };
                let job = &mut record.jobs[slot];
                job.state = JobState::Failed;
                job.reason = Some(reason.clone());
            }
            RunEvent::JobFinished {
                job: id,
                outcome,
                exit,
            } => {
                let started = self.started[id.0];
                let Some(slot) = slot(id) else { return };
                let job = &mut record.jobs[slot];
                job.state = match outcome {
                    Outcome::Passed => JobState::Passed,
                    Outcome::Failed(_) => JobState::Failed,
                    Outcome::Skipped(_) => JobState::Skipped,
                    Outcome::Cancelled(_) => JobState::Cancelled,
                };
                job.reason = outcome.reason_text();
                if self.left_running[id.0] {
                    job.reason =
                        Some("left running (--keep-running); `pipekit-ci down` removes it".into());
                }
                job.exit_code = match exit {
                    // A stopped container reports what its stop signal left (143, 137); a
                    // stopped process reports the signal. Neither exited on its own.
                    Some(JobExit::Code(130 | 131 | 137 | 143)) if self.stopped[id.0] => None,
                    Some(JobExit::Code(code)) => Some(*code),
                    _ => None,
                };
                job.duration_seconds = started.map(|s| at.saturating_sub(s).as_secs_f64());
            }
            RunEvent::RunFinished { interrupted } => {
                let all_passed = record.jobs.iter().all(|j| j.state == JobState::Passed);
                record.status = match (interrupted, all_passed) {
                    (true, _) => RunStatus::Interrupted,
                    (false, true) => RunStatus::Passed,
                    (false, false) => RunStatus::Failed,
                };
            }
            RunEvent::RunStarted { .. }
            | RunEvent::JobWaiting { .. }
            | RunEvent::Output { .. }
            | RunEvent::JobPreparing { .. } => {}
            RunEvent::JobLeftRunning { job: id } => self.left_running[id.0] = true,
        }
    }
}
