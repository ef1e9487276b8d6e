//! A job a re-run does not run again: it finished in an earlier run, and counts in this
//! one as having finished as it did then.

use pipekit_schema::{JobId, SignalId};
use serde::Serialize;
use std::fmt;

/// A job taken over from an earlier run: it passed there, exited 0, and fired `fired`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReusedJob {
    pub job: JobId,
    /// The signals it fired in the earlier run: its dependents' `job.ready` hold.
    pub fired: Vec<SignalId>,
    /// The earlier run's id.
    pub run: String,
}

/// Why a job passed without running: `{"kind": "reused", "run": "…"}` and its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename = "reused")]
pub struct ReuseReason {
    /// The run whose outcome, shared folder, artifacts and log it has.
    pub run: String,
}

impl fmt::Display for ReuseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reused from run {}", self.run)
    }
}
