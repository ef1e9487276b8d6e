//! Why a job is being stopped before its own end: ordered, so that the dispatcher keeps
//! the strongest reason it has seen and a weaker one never replaces it.

use super::reason::{map_string, seconds};
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// Why a job (or the whole run) is being cancelled, weakest first: a job's own timeout
/// stops one job, fail-fast and a lost engine stop the run, an interrupt stops it at the
/// user's request and a second interrupt kills what is left.
///
/// The derived order compares the kind first; [`CancelReason::supersedes`] compares only
/// the kind, so a second fail-fast does not replace the first.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CancelReason {
    /// The job's own `timeout` elapsed: only this job is stopped, and it fails.
    JobTimeout {
        /// The job's `timeout`.
        #[serde(rename = "after_seconds", serialize_with = "seconds")]
        after: Duration,
    },
    /// `--fail-fast`: this job failed, so everything else stops.
    FailFast {
        /// The job whose failure stopped the run.
        job: String,
    },
    /// The container engine went away: no container job can go on.
    EngineLost {
        /// The engine's address (`unix:///var/run/docker.sock`).
        host: String,
    },
    /// The user asked to stop (SIGINT, SIGTERM, SIGHUP, SIGQUIT): jobs get their grace.
    Interrupt,
    /// A second interrupt while stopping: what is still running is killed at once.
    ForcedInterrupt,
}

impl CancelReason {
    /// How strong the reason is; a higher rank wins.
    fn rank(&self) -> u8 {
        match self {
            CancelReason::JobTimeout { .. } => 0,
            CancelReason::FailFast { .. } => 1,
            CancelReason::EngineLost { .. } => 2,
            CancelReason::Interrupt => 3,
            CancelReason::ForcedInterrupt => 4,
        }
    }

    /// Whether `self` is a stronger kind of reason than `other` and so replaces it.
    pub fn supersedes(&self, other: &CancelReason) -> bool {
        self.rank() > other.rank()
    }

    /// Whether the user interrupted the run (once or twice).
    pub fn is_interrupt(&self) -> bool {
        matches!(
            self,
            CancelReason::Interrupt | CancelReason::ForcedInterrupt
        )
    }

    /// The reason with `mask` applied to every text it quotes.
    pub fn map_text(self, mask: &dyn Fn(&str) -> String) -> CancelReason {
        match self {
            CancelReason::FailFast { job } => CancelReason::FailFast {
                job: map_string(job, mask),
            },
            CancelReason::EngineLost { host } => CancelReason::EngineLost {
                host: map_string(host, mask),
            },
            other => other,
        }
    }
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CancelReason::JobTimeout { after } => {
                write!(f, "timed out after {}s", after.as_secs_f64())
            }
            CancelReason::FailFast { job } => write!(f, "--fail-fast after `{job}` failed"),
            CancelReason::EngineLost { host } => {
                write!(f, "the container engine at {host} was lost")
            }
            // The same word as a first interrupt: the job ends cancelled either way, only
            // the force of the stop differs (the kind tells them apart in JSON).
            CancelReason::Interrupt | CancelReason::ForcedInterrupt => f.write_str("interrupted"),
        }
    }
}
