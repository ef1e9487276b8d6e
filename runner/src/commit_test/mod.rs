//! Testing a commit as `run --commit` and the service do: [`CommitPlan::read`] reads the
//! commit, its pipeline files and their `on:` decisions from the repository's objects
//! before anything runs; [`export`] writes the tree out for the jobs' checkouts. Each
//! planned pipeline then runs through the [`session`](crate::session).

mod commit_plan;
mod commit_plan_error;
mod export;
mod push_event;

pub use commit_plan::{CommitPlan, FileOutcome, PipelineChoice, PlannedFile};
pub use commit_plan_error::CommitPlanError;
pub use export::export;
pub use push_event::PushEvent;

#[cfg(test)]
mod tests;
