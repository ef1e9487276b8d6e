//! A run as the service records it, and the words its columns hold.

use super::partial_rerun::PartialRerun;
use super::store_error::StoreError;
use std::fmt;

/// Where a run is in its life. `queued` and `running` are the queue; the others are ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunState {
    Queued,
    Running,
    Passed,
    Failed,
    Errored,
    /// The server stopped (or died) while the run was going on.
    Interrupted,
    /// Cancelled by hand or superseded by a newer push, waiting or running.
    Cancelled,
    /// The commit's pipeline file does not validate: nothing ran.
    Invalid,
}

impl RunState {
    /// Every state, in the order of a run's life.
    pub const ALL: [RunState; 8] = [
        RunState::Queued,
        RunState::Running,
        RunState::Passed,
        RunState::Failed,
        RunState::Errored,
        RunState::Interrupted,
        RunState::Cancelled,
        RunState::Invalid,
    ];

    /// The word of the API, the database and the pages.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Passed => "passed",
            RunState::Failed => "failed",
            RunState::Errored => "errored",
            RunState::Interrupted => "interrupted",
            RunState::Cancelled => "cancelled",
            RunState::Invalid => "invalid",
        }
    }

    /// The state a word names (`None`: no state is called so).
    pub fn parse(word: &str) -> Option<RunState> {
        RunState::ALL
            .into_iter()
            .find(|state| state.as_str() == word)
    }

    /// Whether the run has ended.
    pub fn is_finished(self) -> bool {
        !matches!(self, RunState::Queued | RunState::Running)
    }

    pub(super) fn from_column(word: String) -> Result<RunState, StoreError> {
        RunState::parse(&word).ok_or(StoreError::Corrupt {
            what: "run state",
            value: word,
        })
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What queued a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The button or `POST /api/v1/runs`.
    Manual,
    /// A bare repository's post-receive hook told the server.
    Hook,
    /// A forge's push webhook.
    Webhook,
    /// The poller saw the branch move.
    Poll,
    /// Somebody asked to run it (or its failed jobs) again.
    Rerun,
    /// Queued again after a restart interrupted it.
    Requeue,
}

impl Trigger {
    const ALL: [Trigger; 6] = [
        Trigger::Manual,
        Trigger::Hook,
        Trigger::Webhook,
        Trigger::Poll,
        Trigger::Rerun,
        Trigger::Requeue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Manual => "manual",
            Trigger::Hook => "hook",
            Trigger::Webhook => "webhook",
            Trigger::Poll => "poll",
            Trigger::Rerun => "rerun",
            Trigger::Requeue => "requeue",
        }
    }

    pub fn parse(word: &str) -> Option<Trigger> {
        Trigger::ALL
            .into_iter()
            .find(|trigger| trigger.as_str() == word)
    }

    /// A push seen by a hook, a webhook or the poller. The same commit and pipeline are
    /// queued once, however many of them see it (spec 8); a person may ask again.
    pub fn is_push(self) -> bool {
        matches!(self, Trigger::Hook | Trigger::Webhook | Trigger::Poll)
    }

    pub(super) fn from_column(word: String) -> Result<Trigger, StoreError> {
        Trigger::parse(&word).ok_or(StoreError::Corrupt {
            what: "trigger",
            value: word,
        })
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run to queue: one pipeline file of one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub repository: String,
    pub pipeline: String,
    pub branch: Option<String>,
    pub git_ref: Option<String>,
    pub commit: String,
    pub message: String,
    pub author: String,
    pub trigger: Trigger,
    /// The run this one repeats (a re-run, a requeue).
    pub attempt_of: Option<i64>,
    /// A re-run of only some jobs, the others reused (`None`: every job runs).
    pub rerun: Option<PartialRerun>,
}

/// A recorded run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRow {
    pub id: i64,
    /// 1, 2, 3 … within its repository.
    pub number: i64,
    pub repository: String,
    pub pipeline: String,
    pub branch: Option<String>,
    pub git_ref: Option<String>,
    pub commit: String,
    pub message: String,
    pub author: String,
    pub trigger: Trigger,
    pub state: RunState,
    /// The run folder's id, once the run started.
    pub run_folder: Option<String>,
    pub attempt_of: Option<i64>,
    /// A running run that was asked to stop.
    pub cancel_requested: bool,
    /// RFC 3339, UTC.
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Why it ended errored or invalid, when no report of its own says it.
    pub problem: Option<String>,
    /// A re-run of only some jobs, the others reused (`None`: every job runs).
    pub rerun: Option<PartialRerun>,
}

/// Which runs a listing shows, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub repository: Option<String>,
    pub branch: Option<String>,
    pub state: Option<RunState>,
    /// At most this many (`None`: [`RunFilter::DEFAULT_LIMIT`]).
    pub limit: Option<u32>,
}

impl RunFilter {
    pub const DEFAULT_LIMIT: u32 = 50;
    /// However many are asked for: a page never holds more.
    pub const MAX_LIMIT: u32 = 1000;
}

/// What a cancel did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// It was waiting: it is `cancelled` now and will not start.
    Dequeued,
    /// It is running: marked, and its end will be `cancelled`; the caller stops its jobs.
    Requested,
    /// It had ended already, as it is.
    AlreadyFinished(RunState),
}

/// What opening the store after a restart found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Runs that were running when the server stopped: now `interrupted`.
    pub interrupted: Vec<i64>,
    /// The runs queued again in their place, in the same order.
    pub requeued: Vec<i64>,
}
