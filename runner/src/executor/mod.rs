//! How a job runs. One trait, so the scheduler and reporters never know whether a job is a
//! host process or (later) a container.

mod local;
mod process_group;
mod program_path;

pub use local::LocalExecutor;

use crate::scheduler::JobExit;
use async_trait::async_trait;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;
use tokio::io::AsyncRead;

/// Everything an executor needs to start one job.
#[derive(Debug, Clone)]
pub struct JobLaunch {
    pub job_name: String,
    /// Program and arguments, already resolved from `command` (a string runs under `sh -c`).
    pub argv: Vec<String>,
    /// The complete environment of the job.
    pub env: Vec<(String, String)>,
    pub working_dir: PathBuf,
}

/// A started job: its two output streams, a way to wait for it and a way to stop it.
pub struct SpawnedJob {
    pub stdout: Box<dyn AsyncRead + Send + Unpin>,
    pub stderr: Box<dyn AsyncRead + Send + Unpin>,
    /// Resolves when the job's process has exited.
    pub exit: Pin<Box<dyn Future<Output = Result<JobExit, ExecutorError>> + Send>>,
    pub control: Box<dyn JobControl>,
}

/// Stopping and probing a running job, usable while another task waits for its exit.
#[async_trait]
pub trait JobControl: Send + Sync {
    /// Asks the job to end (SIGTERM / `docker stop`), then forces it after `grace`.
    async fn stop(&self, grace: Duration);
    /// Ends the job and everything it started, now, without a grace period.
    fn kill(&self);
    /// Where the job's ports are reachable (for `Port` signals).
    fn address(&self) -> IpAddr;
    /// Runs a healthcheck command next to the job; `Ok(true)` when it exited 0.
    async fn probe(&self, argv: &[String], timeout: Duration) -> Result<bool, ExecutorError>;
}

/// Runs jobs somewhere: host processes today, containers and clusters later.
#[async_trait]
pub trait Executor: Send + Sync {
    async fn spawn(&self, launch: JobLaunch) -> Result<SpawnedJob, ExecutorError>;
}

/// Why an executor could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    #[error("failed to start `{program}` for job `{job}`: {source}")]
    Spawn {
        job: String,
        program: String,
        source: std::io::Error,
    },
    #[error("job `{job}` has no command to run")]
    NoCommand { job: String },
    #[error("lost track of job `{job}`: {source}")]
    Wait { job: String, source: std::io::Error },
}
