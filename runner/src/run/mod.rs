//! One run of a pipeline: the driver that joins the dispatcher, the executor, the signal
//! watchers and the storage, and the stream of [`RunEvent`]s it emits for reporters.

mod driver;
mod environment;
mod event;
mod junit_files;
mod log_limit;
mod log_writer;
mod output_pump;
mod plan;
mod recorder;
mod workspaces;

pub use driver::{RunContext, RunOptions, execute};
pub use environment::{EnvironmentError, argv_of, job_environment};
pub use event::{Reporter, RunEvent};
pub use junit_files::find_junit_files;
pub use log_limit::{format_size, parse_log_limit};
pub use plan::RunPlan;
pub use recorder::Recorder;
pub use workspaces::Workspaces;

#[cfg(test)]
mod tests;
