//! The dispatcher: events in, decisions out. No processes, no clocks, no I/O, so every
//! scheduling rule is testable as plain data.

mod condition;
mod dispatcher;
mod event;
mod job_progress;
mod overlap;

pub use condition::ConditionStatus;
pub use dispatcher::Dispatcher;
pub use event::{Decision, JobExit, Outcome, SchedulerEvent, StopReason};
pub use overlap::may_overlap;

#[cfg(test)]
mod tests;
