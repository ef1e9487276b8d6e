//! `run.json`: the record of one run, built from the run's events.

use serde::{Deserialize, Serialize};

/// Everything `run.json` says about a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    pub run_id: String,
    /// The pipeline's name (JUnit `testsuite` name and `classname`).
    pub pipeline: String,
    /// The pipeline file as given on the command line.
    pub pipeline_file: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_seconds: f64,
    pub status: RunStatus,
    /// The commit tested (absent outside a git repository).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<crate::git::CommitInfo>,
    pub jobs: Vec<JobRecord>,
}

/// How the run as a whole ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going (only seen in a `run.json` written mid-run).
    Running,
    Passed,
    Failed,
    Interrupted,
    /// pipekit-ci itself hit an environment error (disk, executor).
    Errored,
}

/// What happened to one job.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobRecord {
    pub name: String,
    pub state: JobState,
    /// The process's exit code, when it exited on its own.
    pub exit_code: Option<i32>,
    /// Seconds from the run's start to the job's start.
    pub started_after_seconds: Option<f64>,
    /// Wall time of the job, start to end.
    pub duration_seconds: Option<f64>,
    /// Why it failed, was skipped or was cancelled.
    pub reason: Option<String>,
    /// Declared signals and when (seconds after the job's start) each fired.
    pub signals: Vec<SignalRecord>,
    /// Log file, relative to the run folder (`logs/<job>.log`).
    pub log: String,
    /// Artifact archive, relative to the run folder, when one was packed.
    pub artifact: Option<String>,
    /// JUnit files the job wrote (its `junit:` globs, resolved), as absolute paths.
    pub junit_files: Vec<String>,
}

/// The state of a job; the last four are final.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Waiting,
    Running,
    Passed,
    Failed,
    /// Never started: one of its conditions can no longer hold.
    Skipped,
    /// Was running when the run was stopped (interrupt, `--fail-fast`).
    Cancelled,
}

impl JobState {
    /// The word run.json and the service's API use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Waiting => "waiting",
            JobState::Running => "running",
            JobState::Passed => "passed",
            JobState::Failed => "failed",
            JobState::Skipped => "skipped",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// A declared signal and when it fired.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignalRecord {
    pub name: String,
    pub fired_after_seconds: Option<f64>,
}
