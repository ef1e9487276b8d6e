//! The service's memory: repositories, and every run with its place in the queue, in one
//! SQLite database under the data folder (spec 8). The queue is the runs that are
//! `queued`, oldest first; a restart finds it as it was.

mod branch_tips;
mod deliveries;
mod migrations;
mod partial_rerun;
mod run_pruning;
mod run_row;
mod run_store;
mod status_rows;
mod store_error;
mod superseded_runs;
mod users;

pub use deliveries::KEPT_DELIVERIES;
pub use migrations::SCHEMA_VERSION;
pub use partial_rerun::{PartialRerun, RerunJobs};
pub use run_pruning::{PrunableRun, PruneScope};
pub use run_row::{Cancelled, NewRun, Recovered, RunFilter, RunRow, RunState, Trigger};
pub use run_store::RunStore;
pub use status_rows::{OutboxOutcome, OutboxRow};
pub use store_error::StoreError;
pub use users::{SessionRow, UserRow};

#[cfg(test)]
mod tests;
