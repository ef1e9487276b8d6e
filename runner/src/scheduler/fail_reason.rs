//! Why a job failed, as data; [`fmt::Display`] gives the prose the console, `run.json` and
//! JUnit show.

use super::event::JobExit;
use super::reason::{map_string, optional_seconds, seconds};
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FailReason {
    /// The process exited with a code other than 0.
    ExitCode {
        /// The exit code.
        code: i32,
    },
    /// The process was killed by a signal (host processes only).
    KilledBySignal {
        /// The signal number.
        signal: i32,
    },
    /// The job's own `timeout` elapsed while it ran.
    Timeout {
        /// The job's `timeout`.
        #[serde(rename = "after_seconds", serialize_with = "seconds")]
        after: Duration,
    },
    /// A declared signal's timeout elapsed before it fired.
    SignalTimedOut {
        /// The signal's name.
        signal: String,
        /// The signal's timeout.
        #[serde(rename = "after_seconds", serialize_with = "optional_seconds")]
        after: Option<Duration>,
    },
    /// The job exited 0 while a declared signal had not fired.
    ExitedBeforeSignal {
        /// The first signal that had not fired.
        signal: String,
    },
    /// The job could not be started (a bad `.env`, a spawn error, a missing image).
    StartFailed {
        /// What went wrong, as the executor or the environment said it.
        message: String,
    },
    /// The job's healthcheck gave up.
    Healthcheck {
        /// What the healthcheck watcher said.
        message: String,
    },
    /// The job's artifacts could not be packed or handed on.
    Artifacts {
        /// What went wrong.
        message: String,
    },
    /// The executor lost track of the job while it ran.
    Executor {
        /// The executor's error.
        message: String,
    },
}

impl FailReason {
    /// The failure an exit stands for on its own (the caller knows it is not a pass).
    pub fn from_exit(exit: JobExit) -> FailReason {
        match exit {
            JobExit::Code(code) => FailReason::ExitCode { code },
            JobExit::Signal(signal) => FailReason::KilledBySignal { signal },
        }
    }

    /// The reason with `mask` applied to every text it quotes.
    pub fn map_text(self, mask: &dyn Fn(&str) -> String) -> FailReason {
        let text = |message| map_string(message, mask);
        match self {
            FailReason::SignalTimedOut { signal, after } => FailReason::SignalTimedOut {
                signal: text(signal),
                after,
            },
            FailReason::ExitedBeforeSignal { signal } => FailReason::ExitedBeforeSignal {
                signal: text(signal),
            },
            FailReason::StartFailed { message } => FailReason::StartFailed {
                message: text(message),
            },
            FailReason::Healthcheck { message } => FailReason::Healthcheck {
                message: text(message),
            },
            FailReason::Artifacts { message } => FailReason::Artifacts {
                message: text(message),
            },
            FailReason::Executor { message } => FailReason::Executor {
                message: text(message),
            },
            other @ (FailReason::ExitCode { .. }
            | FailReason::KilledBySignal { .. }
            | FailReason::Timeout { .. }) => other,
        }
    }
}

impl fmt::Display for FailReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailReason::ExitCode { code } => JobExit::Code(*code).fmt(f),
            FailReason::KilledBySignal { signal } => JobExit::Signal(*signal).fmt(f),
            FailReason::Timeout { after } => write!(f, "timed out after {}s", after.as_secs_f64()),
            FailReason::SignalTimedOut { signal, after } => {
                write!(f, "signal `{signal}` timed out")?;
                match after {
                    Some(after) => write!(f, " after {}s", after.as_secs_f64()),
                    None => Ok(()),
                }
            }
            FailReason::ExitedBeforeSignal { signal } => {
                write!(f, "exited 0 before signal `{signal}` fired")
            }
            FailReason::StartFailed { message }
            | FailReason::Healthcheck { message }
            | FailReason::Artifacts { message }
            | FailReason::Executor { message } => f.write_str(message),
        }
    }
}
