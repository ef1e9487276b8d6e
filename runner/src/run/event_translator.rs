//! Turns the driver's [`RunEvent`]s into the events of `events.jsonl`: jobs by name, times
//! since a job's start, and exit codes that say whether the job exited on its own.

use super::event::RunEvent;
use super::event_envelope::EventKind;
use super::event_reason::{EventReason, ReasonKind};
use super::timestamp::Timestamp;
use crate::report::JobState;
use crate::scheduler::{JobExit, Outcome};
use pipekit_schema::{JobId, Pipeline};

/// What a left-running job's `job_finished` says instead of nothing.
const LEFT_RUNNING: &str = "left running (--keep-running); `pipekit-ci down` removes it";

/// Follows the driver's events to translate them; what it keeps per job is what an event
/// needs from earlier ones.
#[derive(Debug)]
pub(super) struct EventTranslator {
    names: Vec<String>,
    /// Per job: when it started.
    started: Vec<Option<Timestamp>>,
    /// Per job: pipekit-ci stopped it (so its end was not its own doing).
    stopped: Vec<bool>,
    /// Per job: left running by `--keep-running`.
    left_running: Vec<bool>,
    /// Per job: a `job_waiting` was written for it.
    told_waiting: Vec<bool>,
    /// Set by the driver's last event: the jobs are over, and whether an interrupt ended them.
    interrupted: Option<bool>,
}

impl EventTranslator {
    pub(super) fn new(pipeline: &Pipeline) -> Self {
        let count = pipeline.jobs.len();
        Self {
            names: pipeline.jobs.iter().map(|job| job.name.clone()).collect(),
            started: vec![None; count],
            stopped: vec![false; count],
            left_running: vec![false; count],
            told_waiting: vec![false; count],
            interrupted: None,
        }
    }

    /// Whether the driver's run ended by an interrupt (false until it ended).
    pub(super) fn interrupted(&self) -> bool {
        self.interrupted.unwrap_or(false)
    }

    /// The event to write for `event`, which happened `at`; `None` for what is no event of
    /// spec 7 (output lines stay in the logs, image progress on the console) or is
    /// written elsewhere (the start and end of the run, by [`super::EventLog`]).
    pub(super) fn translate(&mut self, event: &RunEvent, at: Timestamp) -> Option<EventKind> {
        let name = |job: &JobId| self.names[job.0].clone();
        let kind = match event {
            RunEvent::RunStarted { .. }
            | RunEvent::Output { .. }
            | RunEvent::JobPreparing { .. } => return None,
            // The driver reports a wait each time one fewer condition is pending: a job
            // after a fan-in of 50 would get 50 lines. Said once, then again only once what
            // is left can be named in full; a reader follows the rest through the
            // `job_finished` and `signal_fired` of the jobs it waits on.
            RunEvent::JobWaiting { job, on, more } => {
                if self.told_waiting[job.0] && *more > 0 {
                    return None;
                }
                self.told_waiting[job.0] = true;
                EventKind::JobWaiting {
                    job: name(job),
                    pending: on.clone(),
                    more: *more,
                }
            }
            RunEvent::JobStarted { job } => {
                self.started[job.0] = Some(at);
                EventKind::JobStarted {
                    job: name(job),
                    attempt: 1,
                }
            }
            RunEvent::SignalFired { job, signal } => EventKind::SignalFired {
                job: name(job),
                signal: signal.clone(),
                after_seconds: at.seconds_since(self.started[job.0].unwrap_or(at)),
            },
            RunEvent::JobStopping { job, reason } => {
                self.stopped[job.0] = true;
                EventKind::JobStopping {
                    job: name(job),
                    reason: reason.clone(),
                }
            }
            RunEvent::JobLeftRunning { job } => {
                self.left_running[job.0] = true;
                return None;
            }
            RunEvent::ArtifactsPacked {
                job,
                files,
                bytes,
                compressed_bytes,
            } => EventKind::ArtifactsPacked {
                job: name(job),
                bytes: *bytes,
                files: *files,
                compressed_bytes: *compressed_bytes,
            },
            RunEvent::ArtifactsFailed { job, reason } => EventKind::ArtifactsFailed {
                job: name(job),
                reason: EventReason::new(ReasonKind::Artifacts, reason.clone()),
            },
            RunEvent::JunitFiles { job, files } => EventKind::JunitFiles {
                job: name(job),
                files: files
                    .iter()
                    .map(|file| file.display().to_string())
                    .collect(),
            },
            RunEvent::JobFinished { job, outcome, exit } => self.finished(*job, outcome, *exit),
            RunEvent::RunFinished { interrupted } => {
                self.interrupted = Some(*interrupted);
                return None;
            }
        };
        Some(kind)
    }

    fn finished(&self, job: JobId, outcome: &Outcome, exit: Option<JobExit>) -> EventKind {
        let state = match outcome {
            Outcome::Passed | Outcome::Reused(_) => JobState::Passed,
            Outcome::Failed(_) => JobState::Failed,
            Outcome::Skipped(_) => JobState::Skipped,
            Outcome::Cancelled(_) => JobState::Cancelled,
        };
        let reason = if self.left_running[job.0] {
            Some(EventReason::new(ReasonKind::LeftRunning, LEFT_RUNNING))
        } else {
            EventReason::from_outcome(outcome)
        };
        let exit_code = match exit {
            // A stopped container reports what its stop signal left (143, 137); a stopped
            // process reports the signal. Neither exited on its own.
            Some(JobExit::Code(130 | 131 | 137 | 143)) if self.stopped[job.0] => None,
            Some(JobExit::Code(code)) => Some(code),
            _ => None,
        };
        EventKind::JobFinished {
            job: self.names[job.0].clone(),
            state,
            exit_code,
            reason,
        }
    }
}
