//! Builds the run's [`RunRecord`] (run.json, and the JUnit report made from it) as a fold
//! over the run's events: the same events, live or read back from `events.jsonl`, give the
//! same record.

use super::event_envelope::{EventEnvelope, EventKind};
use super::timestamp::Timestamp;
use crate::report::{JobRecord, JobState, RunRecord, RunStatus, SignalRecord};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Keeps the [`RunRecord`] up to date; share it to read the record after the run.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    fold: Arc<Mutex<Fold>>,
}

/// Why `events.jsonl` could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("line {line} of the events is not an event")]
    NotAnEvent {
        line: usize,
        source: serde_json::Error,
    },
}

#[derive(Debug, Clone, Default)]
struct Fold {
    record: Option<RunRecord>,
    started_at: Timestamp,
    /// Job name to its index in the record.
    slots: HashMap<String, usize>,
    /// Per record job: when it started.
    job_started: Vec<Option<Timestamp>>,
}

impl Recorder {
    /// The record of the events in `text` (the contents of an `events.jsonl`). A partial
    /// last line, what a killed pipekit-ci leaves, is ignored.
    pub fn replay(text: &str) -> Result<RunRecord, ReplayError> {
        let mut fold = Fold::default();
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (index, line) in lines.iter().enumerate() {
            if index + 1 == lines.len() && !line.ends_with('\n') {
                break;
            }
            let event = serde_json::from_str(line).map_err(|source| ReplayError::NotAnEvent {
                line: index + 1,
                source,
            })?;
            fold.follow(&event);
        }
        Ok(fold.record())
    }

    /// Takes one event into the record.
    pub fn follow(&self, event: &EventEnvelope) {
        self.lock().follow(event);
    }

    /// The record as it would stand after `event`, which is not taken in.
    pub fn preview(&self, event: &EventEnvelope) -> RunRecord {
        let mut fold = self.lock().clone();
        fold.follow(event);
        fold.record()
    }

    /// A copy of the record as it stands.
    pub fn snapshot(&self) -> RunRecord {
        self.lock().record()
    }

    /// Whether every job in scope has passed.
    pub fn all_jobs_passed(&self) -> bool {
        self.lock()
            .record
            .as_ref()
            .is_some_and(|record| record.jobs.iter().all(|job| job.state == JobState::Passed))
    }

    fn lock(&self) -> MutexGuard<'_, Fold> {
        self.fold
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Fold {
    fn record(&self) -> RunRecord {
        // Before `run_started` there is no run to speak of; an empty record says so.
        self.record.clone().unwrap_or_else(|| RunRecord {
            run_id: String::new(),
            pipeline: String::new(),
            pipeline_file: String::new(),
            started_at: String::new(),
            duration_seconds: 0.0,
            status: RunStatus::Running,
            commit: None,
            jobs: Vec::new(),
        })
    }

    fn follow(&mut self, envelope: &EventEnvelope) {
        let at = envelope.at;
        if let EventKind::RunStarted {
            pipeline,
            pipeline_file,
            jobs,
            commit,
        } = &envelope.event
        {
            self.started_at = at;
            self.slots = jobs
                .iter()
                .enumerate()
                .map(|(slot, job)| (job.name.clone(), slot))
                .collect();
            self.job_started = vec![None; jobs.len()];
            self.record = Some(RunRecord {
                run_id: envelope.run.clone(),
                pipeline: pipeline.clone(),
                pipeline_file: pipeline_file.clone(),
                started_at: at.to_string(),
                duration_seconds: 0.0,
                status: RunStatus::Running,
                commit: commit.clone(),
                jobs: jobs
                    .iter()
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
                            .map(|name| SignalRecord {
                                name: name.clone(),
                                fired_after_seconds: None,
                            })
                            .collect(),
                        log: format!("logs/{}.log", job.name),
                        artifact: None,
                        junit_files: Vec::new(),
                    })
                    .collect(),
            });
            return;
        }
        let started_at = self.started_at;
        let Some(record) = &mut self.record else {
            return;
        };
        record.duration_seconds = at.seconds_since(started_at);
        let job_of = |name: &String| self.slots.get(name).copied();
        match &envelope.event {
            EventKind::RunStarted { .. } => {}
            EventKind::JobStarted { job, .. } => {
                let Some(slot) = job_of(job) else { return };
                self.job_started[slot] = Some(at);
                let job = &mut record.jobs[slot];
                job.state = JobState::Running;
                job.started_after_seconds = Some(at.seconds_since(started_at));
            }
            EventKind::SignalFired {
                job,
                signal,
                after_seconds,
            } => {
                let Some(slot) = job_of(job) else { return };
                let signals = &mut record.jobs[slot].signals;
                if let Some(signal) = signals.iter_mut().find(|s| &s.name == signal) {
                    signal.fired_after_seconds = Some(*after_seconds);
                }
            }
            EventKind::ArtifactsPacked { job, .. } => {
                let Some(slot) = job_of(job) else { return };
                let job = &mut record.jobs[slot];
                job.artifact = Some(format!("artifacts/{}.tar.zst", job.name));
            }
            // After the job finished: it passed, but what it was to leave behind is missing.
            EventKind::ArtifactsFailed { job, reason } => {
                let Some(slot) = job_of(job) else { return };
                let job = &mut record.jobs[slot];
                job.state = JobState::Failed;
                job.reason = Some(reason.text.clone());
            }
            EventKind::JunitFiles { job, files } => {
                let Some(slot) = job_of(job) else { return };
                record.jobs[slot].junit_files = files.clone();
            }
            EventKind::JobFinished {
                job,
                state,
                exit_code,
                reason,
            } => {
                let Some(slot) = job_of(job) else { return };
                let started = self.job_started[slot];
                let job = &mut record.jobs[slot];
                job.state = *state;
                job.reason = reason.as_ref().map(|reason| reason.text.clone());
                job.exit_code = *exit_code;
                job.duration_seconds = started.map(|started| at.seconds_since(started));
            }
            EventKind::RunFinished { status, .. } => record.status = *status,
            EventKind::JobWaiting { .. }
            | EventKind::JobStopping { .. }
            | EventKind::RunProblem { .. } => {}
        }
    }
}
