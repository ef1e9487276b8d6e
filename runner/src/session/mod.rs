//! A run as a library call: a [`RunRequest`] in, a [`RunOutcome`] out, [`RunEvent`]s to the
//! request's sinks on the way. Nothing here prints, installs signal handlers, or reads the
//! process's environment or current directory: the caller (the CLI, later the service)
//! hands in the host environment, the engine, the cancel signal and the supervisor, so that
//! one process can hold many runs at once.
//!
//! [`RunEvent`]: crate::run::RunEvent

mod cancel;
mod error;
mod finish;
mod outcome;
mod prepare;
mod request;
mod reuse;

pub use crate::executor::Placement;
pub use crate::run::RunPlan;
pub use cancel::{CancelHandle, CancelSignal, cancel_channel};
pub use error::SessionError;
pub use outcome::{ENVIRONMENT, FAILED, INTERRUPTED, INVALID_INPUT, PASSED, Problem, RunOutcome};
pub use prepare::{PreparedRun, runs_dir};
pub use request::{HostEnv, RunRequest, RunSource, SessionOptions};
pub use reuse::{RerunSelection, Reuse, ReuseError};

#[cfg(test)]
mod reuse_tests;
#[cfg(test)]
mod tests;

/// Runs the request to its end: [`PreparedRun::prepare`], then [`PreparedRun::run`].
pub async fn run(request: RunRequest) -> Result<RunOutcome, SessionError> {
    Ok(PreparedRun::prepare(request).await?.run().await)
}
