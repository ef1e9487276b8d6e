//! What the dispatcher is told and what it decides.

use super::cancel_reason::CancelReason;
use super::fail_reason::FailReason;
use super::reason::ReasonWithText;
use super::reused_job::ReuseReason;
use super::skip_reason::SkipReason;
use pipekit_schema::{JobId, SignalId};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::fmt;

/// Something that happened to a job, fed to [`super::Dispatcher::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedulerEvent {
    /// The job's process (or container) is running.
    Started(JobId),
    /// The job could not be started (bad `.env`, spawn error, missing artifact): what the
    /// environment or the executor said.
    FailedToStart(JobId, String),
    /// A declared signal fired.
    SignalFired(JobId, SignalId),
    /// A declared signal's timeout elapsed before it fired.
    SignalTimedOut(JobId, SignalId),
    /// The job's healthcheck passed for the first time.
    Healthy(JobId),
    /// The job's own `timeout` elapsed.
    TimedOut(JobId),
    /// The job's process exited.
    Exited(JobId, JobExit),
    /// The job failed while running or on its way out (healthcheck, artifacts): this
    /// wins over its exit code, and a running job is stopped.
    Failed(JobId, FailReason),
    /// The user asked to stop (SIGINT/SIGTERM); a second time while stopping, to kill.
    Interrupted,
    /// The run cannot go on (the container engine was lost): every job is stopped, as
    /// for an interrupt, with this reason.
    Aborted(CancelReason),
}

impl SchedulerEvent {
    /// The job the event is about (`None` for run-wide events).
    pub fn job(&self) -> Option<JobId> {
        match self {
            SchedulerEvent::Started(id)
            | SchedulerEvent::FailedToStart(id, _)
            | SchedulerEvent::SignalFired(id, _)
            | SchedulerEvent::SignalTimedOut(id, _)
            | SchedulerEvent::Healthy(id)
            | SchedulerEvent::Failed(id, _)
            | SchedulerEvent::TimedOut(id)
            | SchedulerEvent::Exited(id, _) => Some(*id),
            SchedulerEvent::Interrupted | SchedulerEvent::Aborted(_) => None,
        }
    }
}

/// How a job's process ended: `{"code": 3}` or `{"signal": 9}` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobExit {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal number (host processes only).
    Signal(i32),
}

impl fmt::Display for JobExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobExit::Code(code) => write!(f, "exited with code {code}"),
            JobExit::Signal(signal) => write!(f, "was killed by signal {signal}"),
        }
    }
}

/// What the dispatcher wants done. The driver carries each out and decides nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every condition of the job holds: start it.
    Start(JobId),
    /// Stop the running job (SIGTERM, grace period, SIGKILL).
    Stop(JobId, StopReason),
    /// Kill the job now, without a grace period (a second interrupt).
    Kill(JobId),
    /// Give up starting the job (pulling, building, creating): whatever the start made is
    /// removed, and a start that completes anyway is ended at once. A
    /// [`Decision::Finish`] follows.
    Abandon(JobId),
    /// `--keep-running`: let go of the detached job instead of stopping it; it stays up
    /// after the run. A [`Decision::Finish`] follows.
    LeaveRunning(JobId),
    /// The job reached its final state.
    Finish(JobId, Outcome),
}

/// Why a running job is being stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StopReason {
    /// A detached job whose dependents have all ended.
    DependentsEnded,
    /// The job failed while running (a signal's timeout, its healthcheck).
    Failed {
        /// Why it failed.
        reason: FailReason,
    },
    /// The job, or the whole run, is being cancelled.
    Cancelled {
        /// Why; a stronger reason later replaces it.
        reason: CancelReason,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::DependentsEnded => f.write_str("every job depending on it has ended"),
            StopReason::Failed { reason } => reason.fmt(f),
            StopReason::Cancelled { reason } => reason.fmt(f),
        }
    }
}

/// The final state of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and did what it was to do.
    Passed,
    /// It ran, or tried to, and failed.
    Failed(FailReason),
    /// It never started: a condition can no longer hold, or the run was stopped first.
    Skipped(SkipReason),
    /// It was running (or about to) when it or the run was stopped.
    Cancelled(CancelReason),
    /// It passed in an earlier run and was not run again (a re-run): as passed as
    /// [`Outcome::Passed`], with the run it comes from as its reason.
    Reused(ReuseReason),
}

impl Outcome {
    /// Whether the job passed.
    pub fn is_passed(&self) -> bool {
        matches!(self, Outcome::Passed | Outcome::Reused(_))
    }

    /// The state as `run.json` and the events name it.
    pub fn state(&self) -> &'static str {
        match self {
            Outcome::Passed | Outcome::Reused(_) => "passed",
            Outcome::Failed(_) => "failed",
            Outcome::Skipped(_) => "skipped",
            Outcome::Cancelled(_) => "cancelled",
        }
    }

    /// The failure, skip or cancel reason as prose (`run.json`'s `reason`, the console).
    pub fn reason_text(&self) -> Option<String> {
        match self {
            Outcome::Passed => None,
            Outcome::Failed(reason) => Some(reason.to_string()),
            Outcome::Skipped(reason) => Some(reason.to_string()),
            Outcome::Cancelled(reason) => Some(reason.to_string()),
            Outcome::Reused(reason) => Some(reason.to_string()),
        }
    }

    /// The outcome with `mask` applied to every text its reason quotes.
    pub fn map_text(self, mask: &dyn Fn(&str) -> String) -> Outcome {
        match self {
            Outcome::Passed => Outcome::Passed,
            Outcome::Failed(reason) => Outcome::Failed(reason.map_text(mask)),
            Outcome::Skipped(reason) => Outcome::Skipped(reason.map_text(mask)),
            Outcome::Cancelled(reason) => Outcome::Cancelled(reason.map_text(mask)),
            // A run id: nothing of the user's to mask.
            Outcome::Reused(reason) => Outcome::Reused(reason),
        }
    }
}

/// `{"state": "failed", "reason": {"kind": "exit_code", "code": 3, "text": "exited with
/// code 3"}}`; a passed job has no `reason`.
impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("state", self.state())?;
        match self {
            Outcome::Passed => {}
            Outcome::Failed(reason) => {
                map.serialize_entry("reason", &ReasonWithText::new(reason))?
            }
            Outcome::Skipped(reason) => {
                map.serialize_entry("reason", &ReasonWithText::new(reason))?
            }
            Outcome::Cancelled(reason) => {
                map.serialize_entry("reason", &ReasonWithText::new(reason))?
            }
            Outcome::Reused(reason) => {
                map.serialize_entry("reason", &ReasonWithText::new(reason))?
            }
        }
        map.end()
    }
}
