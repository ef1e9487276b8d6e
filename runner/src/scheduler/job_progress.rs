//! What the dispatcher knows about one job.

use super::event::{JobExit, Outcome, StopReason};
use super::fail_reason::FailReason;
use super::skip_reason::NeverReason;

/// Where a job is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Not started: some condition does not hold yet.
    Waiting,
    /// Start decided, the executor has not reported it running yet.
    Starting,
    Running,
    Finished(Outcome),
}

/// The dispatcher's view of one job.
#[derive(Debug, Clone)]
pub struct JobProgress {
    pub phase: Phase,
    /// Outside `--only`'s selection: never started, never reported.
    pub in_scope: bool,
    pub started: bool,
    pub exit: Option<JobExit>,
    /// Per declared signal: fired yet?
    pub fired: Vec<bool>,
    /// Per declared signal: why it can no longer fire.
    pub signal_lost: Vec<Option<NeverReason>>,
    pub healthy: bool,
    /// Set when the job failed while still running; it wins over the exit code.
    pub failure: Option<FailReason>,
    /// Set once a stop was decided, so it is decided once.
    pub stop: Option<StopReason>,
}

impl JobProgress {
    pub fn new(signal_count: usize, in_scope: bool) -> Self {
        Self {
            phase: Phase::Waiting,
            in_scope,
            started: false,
            exit: None,
            fired: vec![false; signal_count],
            signal_lost: vec![None; signal_count],
            healthy: false,
            failure: None,
            stop: None,
        }
    }

    pub fn is_finished(&self) -> bool {
        matches!(self.phase, Phase::Finished(_))
    }

    pub fn is_active(&self) -> bool {
        matches!(self.phase, Phase::Starting | Phase::Running)
    }

    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.phase {
            Phase::Finished(outcome) => Some(outcome),
            _ => None,
        }
    }
}
