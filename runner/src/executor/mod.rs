//! How a job runs. One trait, so the scheduler and reporters never know whether a job is a
//! host process or a container.

mod descendants;
mod docker;
mod local;
mod placed;
mod process_group;
mod program_path;
mod supervisor;

pub use descendants::JobTag;
pub use docker::{
    DockerError, DockerExecutor, Engine, Owner, Removed, RunIdentity, SHARED_MOUNT,
    WORKSPACE_MOUNT, collect_garbage, take_down,
};
pub use local::LocalExecutor;
pub use placed::{Executors, Placement};
pub use supervisor::{HostSupervisor, OwnChild};

use crate::scheduler::JobExit;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncRead;

/// Everything an executor needs to start one job.
#[derive(Clone)]
pub struct JobLaunch {
    pub job_name: String,
    /// Program and arguments, already resolved from `command` (a string runs under `sh -c`).
    /// Empty for a container: the image's own command.
    pub argv: Vec<String>,
    /// The complete environment of the job.
    pub env: Vec<(String, String)>,
    /// On the host for a host job, inside the container for a container job.
    pub working_dir: PathBuf,
    /// Set when the job runs in a container.
    pub container: Option<ContainerLaunch>,
    /// Where long preparations (pulling, building an image) say how far they got.
    pub progress: Option<ProgressSink>,
}

/// Receives one line of progress at a time (`pulling busybox: Downloading 3/5 layers`).
pub type ProgressSink = Arc<dyn Fn(String) + Send + Sync>;

/// What a container job needs besides its command (Compose's meaning for each field).
#[derive(Debug, Clone)]
pub struct ContainerLaunch {
    pub image: ImageSource,
    pub entrypoint: Option<Vec<String>>,
    pub user: Option<String>,
    /// Compose's short syntax, `SOURCE:TARGET[:MODE]`; relative sources already made absolute.
    pub volumes: Vec<String>,
    /// Compose's short syntax: `80`, `8080:80`, `127.0.0.1:8080:80/udp`.
    pub ports: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Host folders mounted at `/pipekit` and `/workspace`.
    pub shared_root: PathBuf,
    pub workspace: PathBuf,
    /// Left running when the run ends (`--keep-running` on a detached job).
    pub keep: bool,
    /// The job has `Port` signals: find its address (one more call to the engine).
    pub wants_address: bool,
    /// Compose's `mem_limit`: the engine kills the container beyond it.
    pub memory: Option<pipekit_schema::MemoryLimit>,
    /// Written into the container as `/run/secrets/<name>` before it starts.
    pub secrets: Vec<crate::secrets::SecretFile>,
}

/// Where a container's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// Used if present locally, pulled otherwise.
    Named(String),
    /// Built from a local context through the engine, and tagged `tag`.
    Build {
        context: PathBuf,
        dockerfile: Option<String>,
        args: BTreeMap<String, String>,
        tag: String,
    },
}

impl std::fmt::Display for ImageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageSource::Named(name) => write!(f, "image `{name}`"),
            ImageSource::Build { context, tag, .. } => {
                write!(f, "image `{tag}` built from `{}`", context.display())
            }
        }
    }
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
    /// Where the job's ports are reachable (for `Port` signals that must knock).
    fn address(&self) -> IpAddr;
    /// How `Port` signals tell that the job listens; knocking on [`Self::address`] unless
    /// the executor knows the job's sockets.
    fn port_readiness(&self) -> crate::signals::PortReadiness {
        crate::signals::PortReadiness::Connect(self.address())
    }
    /// Runs a healthcheck command next to the job; `Ok(true)` when it exited 0.
    async fn probe(&self, argv: &[String], timeout: Duration) -> Result<bool, ExecutorError>;
    /// Called once the job exited and its output was read: frees what the job held (its
    /// container). Host processes hold nothing.
    async fn release(&self) {}
}

/// Runs jobs somewhere: host processes, containers, and later clusters.
#[async_trait]
pub trait Executor: Send + Sync {
    async fn spawn(&self, launch: JobLaunch) -> Result<SpawnedJob, ExecutorError>;
    /// Called once when the run is over, whatever way it ended: removes everything the run
    /// created that is not meant to outlive it.
    async fn shutdown(&self) {}

    /// Resolves once `path`, on the run's shared storage, exists (`Exists` signals). Host
    /// processes and containers write the same host folder, so the default watches it
    /// here; an executor whose jobs write elsewhere watches there.
    async fn watch_shared_file(&self, path: PathBuf) {
        crate::signals::watch_exists(path).await
    }

    /// Packs a finished job's artifacts (what `patterns` select in `tree`) into `store`.
    /// Blocking. The default reads the tree here, where host and container jobs leave it.
    fn pack_artifacts(
        &self,
        store: &dyn crate::storage::ArtifactStore,
        job: &str,
        tree: &Path,
        patterns: &[String],
    ) -> Result<crate::storage::PackSummary, crate::storage::ArtifactError> {
        store.put(job, tree, patterns)
    }

    /// The JUnit files a finished job left: what `patterns` match in its `tree` and in the
    /// staged copy of its artifacts. Blocking. The default reads this machine's files,
    /// where host and container jobs leave them.
    fn junit_files(&self, tree: &Path, staged: Option<&Path>, patterns: &[String]) -> Vec<PathBuf> {
        crate::run::find_job_junit_files(tree, staged, patterns)
    }
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
    /// The job needs an image that could not be pulled or built.
    #[error("{image}: {reason}")]
    Image { image: String, reason: String },
    /// The container engine failed (not the job).
    #[error("container engine: {what} for job `{job}`: {reason}")]
    Engine {
        job: String,
        what: &'static str,
        reason: String,
    },
    /// The engine went away while the job ran (its socket closed, the daemon died): the
    /// run cannot go on, and it is no fault of the job.
    #[error("lost the container engine at {host} while job `{job}` ran: {reason}")]
    EngineLost {
        job: String,
        host: String,
        reason: String,
    },
    /// The kernel killed the container for memory (over its `mem_limit`, or the host ran
    /// out).
    #[error(
        "killed: out of memory{}",
        .limit.as_ref().map(|limit| format!(" (mem_limit {limit})")).unwrap_or_default()
    )]
    OutOfMemory {
        job: String,
        limit: Option<String>,
        code: i32,
    },
    #[error("job `{job}` needs a container, and this run has no container engine")]
    NoEngine { job: String },
    /// The job's source tree could not be made ready (checkout, artifacts).
    #[error("{reason}")]
    Prepare { job: String, reason: String },
}

impl ExecutorError {
    /// The exit the job still had, when the error describes how it ended rather than a
    /// failure to follow it.
    pub fn exit(&self) -> Option<JobExit> {
        match self {
            ExecutorError::OutOfMemory { code, .. } => Some(JobExit::Code(*code)),
            _ => None,
        }
    }
}
