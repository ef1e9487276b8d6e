//! How a run ended, as data: the caller decides how to show it.

use crate::report::{RunRecord, RunStatus};
use std::fmt;
use std::path::PathBuf;

/// The spec's exit codes (section 5).
pub const PASSED: u8 = 0;
pub const FAILED: u8 = 1;
pub const INVALID_INPUT: u8 = 2;
pub const ENVIRONMENT: u8 = 3;
pub const INTERRUPTED: u8 = 130;

/// What went wrong around the jobs rather than in them; each makes the run exit 3.
/// Masked: no secret of the run shows in them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The container engine went away while the run needed it.
    EngineLost(String),
    /// Writing a log failed (a full disk): the logs are incomplete.
    LogsIncomplete(String),
    /// `run.json` or a JUnit report could not be written.
    Reports(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::EngineLost(lost) => write!(
                f,
                "{lost}; the run could not go on (its containers are removed by the next run \
                 or `pipekit-ci gc` once the engine is back)"
            ),
            Problem::LogsIncomplete(failure) => write!(
                f,
                "{failure}; the run is marked errored: its jobs ran to their end, but their \
                 logs are incomplete"
            ),
            Problem::Reports(why) => f.write_str(why),
        }
    }
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// Every job's outcome (state, exit code, reason, times), as `run.json` has it, masked.
    pub record: RunRecord,
    /// The run folder.
    pub run_dir: PathBuf,
    /// Whether a cancel stopped it.
    pub interrupted: bool,
    pub problems: Vec<Problem>,
    /// The exit code the run's `run_finished` event gave.
    pub(super) exit_code: u8,
}

impl RunOutcome {
    pub fn status(&self) -> RunStatus {
        self.record.status
    }

    pub fn run_id(&self) -> &str {
        &self.record.run_id
    }

    /// The spec's exit code, as the run's last event says it: 3 on any problem, else 0
    /// passed, 130 interrupted, 1 failed.
    pub fn exit_code(&self) -> u8 {
        if !self.problems.is_empty() {
            return ENVIRONMENT;
        }
        self.exit_code
    }
}
