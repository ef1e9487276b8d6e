//! The dispatcher: events in, decisions out. No processes, no clocks, no I/O, so every
//! scheduling rule is testable as plain data.

mod cancel_reason;
mod condition;
mod condition_book;
mod detached_jobs;
mod dispatcher;
mod event;
mod fail_reason;
mod job_progress;
mod overlap;
mod reason;
mod rerun_scope;
mod reused_job;
mod skip_reason;

pub use cancel_reason::CancelReason;
pub use condition::ConditionStatus;
pub use dispatcher::Dispatcher;
pub use event::{Decision, JobExit, Outcome, SchedulerEvent, StopReason};
pub use fail_reason::FailReason;
pub use overlap::may_overlap;
pub use reason::ReasonWithText;
pub use rerun_scope::RerunScope;
pub use reused_job::{ReuseReason, ReusedJob};
pub use skip_reason::{NeverReason, SkipReason};

#[cfg(test)]
mod tests;
