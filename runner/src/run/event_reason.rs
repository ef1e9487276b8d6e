//! Why a job ended the way it did, as events carry it: a kind a UI can act on, the jobs,
//! conditions and signals it names, and the sentence the console shows.

use crate::scheduler::{CancelReason, FailReason, Outcome, SkipReason};
use serde::{Deserialize, Serialize};

/// The structured reason of a `job_finished` (spec 7):
/// `{"kind": "condition_never", "job": "db", "condition": "db.ready", "text": "…"}`.
///
/// Until the dispatcher's outcomes carry typed reasons, [`EventReason::from_outcome`]
/// derives the kind and the names from the dispatcher's sentences. A typed reason that
/// implements `Serialize` as `{"kind": …, <its fields>}` replaces this struct's `kind`,
/// `job`, `condition` and `signal` (flattened beside `text`); `from_outcome` is the one
/// place to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReason {
    pub kind: ReasonKind,
    /// The job the reason is about, when it is another one (the dependency that failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The condition that can no longer hold (`db.ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The job's own signal the reason is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// The earlier run a reused job's outcome comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// The reason as the console and `run.json` say it.
    pub text: String,
}

/// What kind of reason it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// Skipped: a condition it depends on can no longer hold.
    ConditionNever,
    /// Skipped: the run was being stopped before the job could start.
    NotStarted,
    /// Failed: it exited with a code other than 0.
    ExitCode,
    /// Failed: a signal killed it.
    Killed,
    /// Failed: its own `timeout` elapsed.
    Timeout,
    /// Failed: one of its signals did not fire within its timeout.
    SignalTimeout,
    /// Failed: it exited 0 before one of its signals fired.
    SignalNeverFired,
    /// Failed: its artifacts could not be packed or handed on.
    Artifacts,
    /// Cancelled: the run was interrupted.
    Interrupted,
    /// Cancelled: `--fail-fast` after another job failed.
    FailFast,
    /// Cancelled: the container engine was lost.
    EngineLost,
    /// Passed, and left running by `--keep-running`.
    LeftRunning,
    /// Passed in an earlier run, not run again by a re-run: its files are that run's.
    Reused,
    /// A failure of another kind (start failed, healthcheck, executor error).
    Failed,
    /// A cancellation of another kind.
    Cancelled,
    /// A kind written by a later pipekit-ci.
    #[serde(other)]
    Other,
}

impl EventReason {
    /// A reason of `kind` with nothing but its text.
    pub fn new(kind: ReasonKind, text: impl Into<String>) -> Self {
        Self {
            kind,
            job: None,
            condition: None,
            signal: None,
            run: None,
            text: text.into(),
        }
    }

    /// The reason of a job's outcome (`None` for a pass), from the dispatcher's typed
    /// reason: its kind and the names it carries, and its sentence.
    pub fn from_outcome(outcome: &Outcome) -> Option<Self> {
        let text = outcome.reason_text()?;
        let mut reason = EventReason::new(ReasonKind::Failed, text);
        match outcome {
            Outcome::Passed => return None,
            Outcome::Reused(reused) => {
                reason.kind = ReasonKind::Reused;
                reason.run = Some(reused.run.clone());
            }
            Outcome::Skipped(SkipReason::ConditionNever { job, condition, .. }) => {
                reason.kind = ReasonKind::ConditionNever;
                reason.job = Some(job.clone());
                reason.condition = Some(condition.clone());
            }
            Outcome::Skipped(SkipReason::NotStarted { .. }) => reason.kind = ReasonKind::NotStarted,
            Outcome::Failed(failure) => {
                reason.kind = match failure {
                    FailReason::ExitCode { .. } => ReasonKind::ExitCode,
                    FailReason::KilledBySignal { .. } => ReasonKind::Killed,
                    FailReason::Timeout { .. } => ReasonKind::Timeout,
                    FailReason::SignalTimedOut { .. } => ReasonKind::SignalTimeout,
                    FailReason::ExitedBeforeSignal { .. } => ReasonKind::SignalNeverFired,
                    FailReason::Artifacts { .. } => ReasonKind::Artifacts,
                    FailReason::StartFailed { .. }
                    | FailReason::Healthcheck { .. }
                    | FailReason::Executor { .. } => ReasonKind::Failed,
                };
                if let FailReason::SignalTimedOut { signal, .. }
                | FailReason::ExitedBeforeSignal { signal } = failure
                {
                    reason.signal = Some(signal.clone());
                }
            }
            Outcome::Cancelled(cancel) => {
                reason.kind = match cancel {
                    CancelReason::Interrupt | CancelReason::ForcedInterrupt => {
                        ReasonKind::Interrupted
                    }
                    CancelReason::FailFast { job } => {
                        reason.job = Some(job.clone());
                        ReasonKind::FailFast
                    }
                    CancelReason::EngineLost { .. } => ReasonKind::EngineLost,
                    CancelReason::JobTimeout { .. } => ReasonKind::Cancelled,
                };
            }
        }
        Some(reason)
    }
}
