//! One line of `events.jsonl` (spec 7): the run, the place in the run's sequence, the time,
//! and what happened.

use super::event_reason::EventReason;
use super::timestamp::Timestamp;
use crate::git::CommitInfo;
use crate::report::{JobState, RunStatus};
use serde::{Deserialize, Serialize};

/// An event as it is written and read back: `{"seq": 0, "at": "…", "run": "…", "kind": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// 0, 1, 2, … with no gap within a run.
    pub seq: u64,
    /// When it happened (RFC 3339, milliseconds, UTC).
    pub at: Timestamp,
    /// The run id.
    pub run: String,
    #[serde(flatten)]
    pub event: EventKind,
}

/// What happened, with the fields spec 7 names; jobs are named, not numbered, so that a
/// reader needs nothing but the line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// Always the first event: what the run is about.
    RunStarted {
        /// The pipeline's name.
        pipeline: String,
        /// The pipeline file as given on the command line.
        pipeline_file: String,
        /// The jobs in scope (`--only`), in file order.
        jobs: Vec<JobSummary>,
        /// The commit tested (absent outside a git repository).
        commit: Option<CommitInfo>,
    },
    /// A job waits; `pending` names the first conditions that do not hold yet, `more`
    /// counts the others (a wide fan-in would otherwise repeat a thousand names).
    JobWaiting {
        job: String,
        pending: Vec<String>,
        more: usize,
    },
    JobStarted {
        job: String,
        /// 1 for the first run of the job.
        attempt: u32,
    },
    SignalFired {
        job: String,
        signal: String,
        /// Seconds from the job's start.
        after_seconds: f64,
    },
    /// A running job is being stopped by pipekit-ci, and why.
    JobStopping { job: String, reason: String },
    JobFinished {
        job: String,
        /// `passed`, `failed`, `skipped` or `cancelled`.
        state: JobState,
        /// The process's exit code, when it exited on its own.
        exit_code: Option<i32>,
        reason: Option<EventReason>,
    },
    /// The JUnit files a job wrote (its `junit:` globs, resolved when it exited), as
    /// absolute paths; `junit.xml` merges them.
    JunitFiles { job: String, files: Vec<String> },
    ArtifactsPacked {
        job: String,
        /// Bytes of the packed files, before compression.
        bytes: u64,
        files: u64,
        compressed_bytes: u64,
    },
    /// A passed job's archive could not be packed: the job counts as failed after all.
    ArtifactsFailed { job: String, reason: EventReason },
    /// Something outside the jobs went wrong; the run ends `errored` (exit 3).
    RunProblem { problem: ProblemKind, text: String },
    /// Always the last event of a run that ended normally or was interrupted.
    RunFinished {
        /// `passed`, `failed`, `errored` or `interrupted`.
        status: RunStatus,
        /// The exit code spec 5 gives this status.
        exit_code: u8,
    },
}

/// A job as `run_started` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSummary {
    pub name: String,
    /// Its declared signals, in file order.
    pub signals: Vec<String>,
    /// The jobs its conditions wait on, in file order, each once: the edges of the job
    /// graph a page draws from the run folder alone. (Absent in runs of earlier versions.)
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// What went wrong outside the jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The container engine could not be used to start the run's containers.
    EngineUnavailable,
    /// The container engine went away during the run.
    EngineLost,
    /// A file of the run folder could not be written (a full disk).
    WriteFailure,
    /// `run.json` or `junit.xml` could not be written.
    Reports,
    /// A problem written by a later pipekit-ci.
    #[serde(other)]
    Other,
}

/// The exit code spec 5 gives a run that ended with `status`.
pub fn exit_code_of(status: RunStatus) -> u8 {
    match status {
        RunStatus::Passed => 0,
        RunStatus::Failed | RunStatus::Running => 1,
        RunStatus::Errored => 3,
        RunStatus::Interrupted => 130,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::event_reason::ReasonKind;

    #[test]
    fn an_envelope_is_one_flat_object() -> Result<(), serde_json::Error> {
        let envelope = EventEnvelope {
            seq: 3,
            at: Timestamp::parse("2026-11-22T00:15:00.123Z").unwrap_or_default(),
            run: "20261122-001500-123-abcd".into(),
            event: EventKind::JobFinished {
                job: "test".into(),
                state: JobState::Failed,
                exit_code: Some(2),
                reason: Some(EventReason::new(ReasonKind::ExitCode, "exited with code 2")),
            },
        };
        let json = serde_json::to_value(&envelope)?;
        assert_eq!(
            json,
            serde_json::json!({
                "seq": 3,
                "at": "2026-11-22T00:15:00.123Z",
                "run": "20261122-001500-123-abcd",
                "kind": "job_finished",
                "job": "test",
                "state": "failed",
                "exit_code": 2,
                "reason": {"kind": "exit_code", "text": "exited with code 2"},
            })
        );
        assert_eq!(serde_json::from_value::<EventEnvelope>(json)?, envelope);
        Ok(())
    }
}
