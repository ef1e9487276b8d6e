//! The run as a stream of events: what reporters (console, run.json, JUnit, later a web UI)
//! follow.

use crate::scheduler::{JobExit, Outcome};
use crate::secrets::Masker;
use pipekit_schema::{JobId, Stream};
use std::path::PathBuf;
use std::time::Duration;

/// Something that happened in a run.
#[derive(Debug, Clone)]
pub enum RunEvent {
    RunStarted {
        run_id: String,
        run_dir: PathBuf,
    },
    /// A job is waiting; `on` names the first conditions that do not hold yet (`db.ready`),
    /// `more` counts the others.
    JobWaiting {
        job: JobId,
        on: Vec<String>,
        more: usize,
    },
    /// A job's preparation got further: its image is being pulled or built.
    JobPreparing {
        job: JobId,
        text: String,
    },
    JobStarted {
        job: JobId,
    },
    /// One line of a job's output (without its newline).
    Output {
        job: JobId,
        stream: Stream,
        line: String,
    },
    SignalFired {
        job: JobId,
        signal: String,
    },
    /// A running job is being stopped, and why.
    JobStopping {
        job: JobId,
        reason: String,
    },
    /// A detached job the run lets go of, still running (`--keep-running`).
    JobLeftRunning {
        job: JobId,
    },
    ArtifactsPacked {
        job: JobId,
        files: u64,
        bytes: u64,
        compressed_bytes: u64,
    },
    /// A job's archive could not be packed after its exit was handed on: the job fails.
    ArtifactsFailed {
        job: JobId,
        reason: String,
    },
    JobFinished {
        job: JobId,
        outcome: Outcome,
        exit: Option<JobExit>,
    },
    /// The JUnit files a job wrote (its `junit:` globs), found when it exited.
    JunitFiles {
        job: JobId,
        files: Vec<PathBuf>,
    },
    /// The run is over; every job has finished.
    RunFinished {
        interrupted: bool,
    },
}

impl RunEvent {
    /// The event with every secret in its texts masked. Output lines are masked by their
    /// pump already; these are the texts pipekit-ci makes (reasons, progress), which may
    /// quote a job's words or an engine's error.
    pub fn masked(self, masker: &Masker) -> RunEvent {
        if masker.is_empty() {
            return self;
        }
        let mask = |text: String| masker.mask(&text).into_owned();
        match self {
            RunEvent::JobPreparing { job, text } => RunEvent::JobPreparing {
                job,
                text: mask(text),
            },
            RunEvent::JobStopping { job, reason } => RunEvent::JobStopping {
                job,
                reason: mask(reason),
            },
            RunEvent::JobFinished { job, outcome, exit } => RunEvent::JobFinished {
                job,
                outcome: outcome.map_text(&|text: &str| masker.mask(text).into_owned()),
                exit,
            },
            other => other,
        }
    }
}

/// Follows a run. Called on the driver's task, in order, so keep it quick.
pub trait Reporter: Send {
    /// `at` is the time since the run started.
    fn on_event(&mut self, at: Duration, event: &RunEvent);

    /// Called when the driver has caught up with every event: the moment to write out what
    /// was buffered, so a flood of lines costs one write per batch, not one per line.
    fn flush(&mut self) {}

    /// Whether this reporter shows every change of what a waiting job waits on. The driver
    /// otherwise reports a wait only when it begins and once what is left can be named in
    /// full: a job after a fan-in of 1,000 would cost 1,000 events nobody reads.
    fn wants_every_wait(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_progress_are_masked() -> Result<(), crate::secrets::SecretError> {
        let masker = Masker::new(["hunter2hunter2"])?;
        let finished = RunEvent::JobFinished {
            job: JobId(0),
            outcome: Outcome::Failed(crate::scheduler::FailReason::StartFailed {
                message: "login as hunter2hunter2 refused".into(),
            }),
            exit: None,
        }
        .masked(&masker);
        match finished {
            RunEvent::JobFinished { outcome, .. } => {
                assert_eq!(
                    outcome.reason_text().as_deref(),
                    Some("login as *** refused")
                );
            }
            other => panic!("{other:?}"),
        }
        let stopping = RunEvent::JobStopping {
            job: JobId(0),
            reason: "hunter2hunter2".into(),
        }
        .masked(&masker);
        assert!(matches!(stopping, RunEvent::JobStopping { reason, .. } if reason == "***"));
        let preparing = RunEvent::JobPreparing {
            job: JobId(0),
            text: "pulling with hunter2hunter2".into(),
        }
        .masked(&masker);
        assert!(
            matches!(preparing, RunEvent::JobPreparing { text, .. } if text == "pulling with ***")
        );
        Ok(())
    }
}
