//! One run of a pipeline: the driver that joins the dispatcher, the executor, the signal
//! watchers and the storage, and the stream of [`RunEvent`]s it emits for reporters.

mod driver;
mod environment;
mod event;
mod event_envelope;
mod event_log;
mod event_reason;
mod event_translator;
mod junit_files;
mod line_file;
mod log_limit;
mod log_writer;
mod output_pump;
mod plan;
mod recorder;
mod reused_jobs;
mod timestamp;
mod workspaces;

pub use driver::{RunContext, RunOptions, execute};
pub use environment::{EnvironmentError, argv_of, job_environment};
pub use event::{Reporter, RunEvent};
pub use event_envelope::{EventEnvelope, EventKind, JobSummary, ProblemKind, exit_code_of};
pub use event_log::{EVENTS_FILE, EventLog, EventLogError, RunEnd, RunHeader};
pub use event_reason::{EventReason, ReasonKind};
pub use junit_files::{find_job_junit_files, find_junit_files};
pub use log_limit::{format_size, parse_log_limit};
pub use plan::RunPlan;
pub use recorder::{Recorder, ReplayError};
pub use reused_jobs::ReusedJobs;
pub use timestamp::Timestamp;
pub use workspaces::Workspaces;

#[cfg(test)]
mod decision_tests;
#[cfg(test)]
mod fake_executor;
#[cfg(test)]
mod test_run;
#[cfg(test)]
mod tests;
