//! What the dispatcher is told and what it decides.

use pipekit_schema::{JobId, SignalId};
use std::fmt;

/// Something that happened to a job, fed to [`super::Dispatcher::handle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchedulerEvent {
    /// The job's process (or container) is running.
    Started(JobId),
    /// The job could not be started (bad `.env`, spawn error, missing artifact).
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
    Failed(JobId, String),
    /// The run gave up starting the job (an interrupt, `--fail-fast`) before the executor
    /// had it running: cancelled.
    StartAbandoned(JobId),
    /// A detached job that was to be stopped is left running instead (`--keep-running`):
    /// it passed, and the run no longer waits for it.
    LeftRunning(JobId),
    /// The user asked to stop (SIGINT/SIGTERM).
    Interrupted,
    /// The run cannot go on (the container engine was lost): every job is stopped, as
    /// for an interrupt, with this reason.
    Aborted(String),
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
            | SchedulerEvent::Exited(id, _)
            | SchedulerEvent::LeftRunning(id)
            | SchedulerEvent::StartAbandoned(id) => Some(*id),
            SchedulerEvent::Interrupted | SchedulerEvent::Aborted(_) => None,
        }
    }
}

/// How a job's process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobExit {
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

/// What the dispatcher wants done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every condition of the job holds: start it.
    Start(JobId),
    /// Stop the running job (SIGTERM, grace period, SIGKILL).
    Stop(JobId, StopReason),
    /// The job reached its final state.
    Finish(JobId, Outcome),
}

/// Why a running job is being stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// A detached job whose dependents have all ended.
    DependentsEnded,
    /// The job failed while running (its timeout, or a signal's).
    Failed(String),
    /// The whole run is being stopped (interrupt, `--fail-fast`).
    Cancelled(String),
}

/// The final state of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(String),
    /// Never started; the reason names the condition that can no longer hold.
    Skipped(String),
    /// Was running (or about to) when the run was stopped.
    Cancelled(String),
}

impl Outcome {
    pub fn is_passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }

    /// The failure, skip or cancel reason.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Passed => None,
            Outcome::Failed(reason) | Outcome::Skipped(reason) | Outcome::Cancelled(reason) => {
                Some(reason)
            }
        }
    }
}
