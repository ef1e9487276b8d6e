//! Why a job never started, as data: which condition, of which job, and why it can no
//! longer hold. [`fmt::Display`] gives the prose the console, `run.json` and JUnit show.

use super::cancel_reason::CancelReason;
use super::event::JobExit;
use super::fail_reason::FailReason;
use super::reason::{map_string, optional_seconds};
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// Why a job was skipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// One of its conditions can no longer hold.
    ConditionNever {
        /// The job the condition names (`db` in `db.ready`).
        job: String,
        /// The condition as written (`db.ready`, `db.ExitCode(0)`).
        condition: String,
        /// Why it can no longer hold.
        why: NeverReason,
    },
    /// The run was being stopped before its conditions held.
    NotStarted {
        /// Why the run was being stopped.
        cancel: CancelReason,
    },
}

/// Why a condition on a job can no longer hold, told of that job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NeverReason {
    /// The job ended without ever starting (its own reason is elsewhere).
    NeverStarted,
    /// The job was skipped.
    Skipped,
    /// The job was cancelled.
    Cancelled,
    /// The job failed.
    DependencyFailed {
        /// Why it failed.
        reason: FailReason,
    },
    /// The job exited, with the wrong code for an `ExitCode(n)` condition.
    Exited {
        /// How it exited.
        exit: JobExit,
    },
    /// The job exited before the awaited signal fired.
    ExitedBeforeSignal {
        /// How it exited.
        exit: JobExit,
        /// The awaited signal.
        signal: String,
    },
    /// The awaited signal's timeout elapsed before it fired.
    SignalTimedOut {
        /// The awaited signal.
        signal: String,
        /// The signal's timeout.
        #[serde(rename = "after_seconds", serialize_with = "optional_seconds")]
        after: Option<Duration>,
    },
    /// The job exited before its healthcheck passed.
    ExitedBeforeHealthy {
        /// How it exited.
        exit: JobExit,
    },
}

impl SkipReason {
    /// The reason with `mask` applied to every text it quotes.
    pub fn map_text(self, mask: &dyn Fn(&str) -> String) -> SkipReason {
        match self {
            SkipReason::ConditionNever {
                job,
                condition,
                why,
            } => SkipReason::ConditionNever {
                job: map_string(job, mask),
                condition: map_string(condition, mask),
                why: why.map_text(mask),
            },
            SkipReason::NotStarted { cancel } => SkipReason::NotStarted {
                cancel: cancel.map_text(mask),
            },
        }
    }
}

impl NeverReason {
    /// The reason with `mask` applied to every text it quotes.
    pub fn map_text(self, mask: &dyn Fn(&str) -> String) -> NeverReason {
        match self {
            NeverReason::DependencyFailed { reason } => NeverReason::DependencyFailed {
                reason: reason.map_text(mask),
            },
            NeverReason::ExitedBeforeSignal { exit, signal } => NeverReason::ExitedBeforeSignal {
                exit,
                signal: map_string(signal, mask),
            },
            NeverReason::SignalTimedOut { signal, after } => NeverReason::SignalTimedOut {
                signal: map_string(signal, mask),
                after,
            },
            other => other,
        }
    }

    /// The prose, told of `job`: "`db` exited with code 3".
    fn describe(&self, job: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NeverReason::NeverStarted => write!(f, "`{job}` never started"),
            NeverReason::Skipped => write!(f, "`{job}` was skipped"),
            NeverReason::Cancelled => write!(f, "`{job}` was cancelled"),
            NeverReason::DependencyFailed { reason } => write!(f, "`{job}` failed: {reason}"),
            NeverReason::Exited { exit } => write!(f, "`{job}` {exit}"),
            NeverReason::ExitedBeforeSignal { exit, signal } => {
                write!(f, "`{job}` {exit} before signal `{signal}` fired")
            }
            NeverReason::SignalTimedOut { signal, after } => {
                write!(f, "`{job}`'s signal `{signal}` timed out")?;
                match after {
                    Some(after) => write!(f, " after {}s", after.as_secs_f64()),
                    None => Ok(()),
                }
            }
            NeverReason::ExitedBeforeHealthy { exit } => {
                write!(f, "`{job}` {exit} before it was healthy")
            }
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::ConditionNever {
                job,
                condition,
                why,
            } => {
                write!(f, "`{condition}` can no longer hold: ")?;
                why.describe(job, f)
            }
            SkipReason::NotStarted { cancel } => write!(f, "not started: {cancel}"),
        }
    }
}
