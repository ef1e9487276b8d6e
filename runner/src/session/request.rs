//! What a caller hands in to run a pipeline.

use super::cancel::CancelSignal;
use super::reuse::Reuse;
use crate::executor::{Engine, HostSupervisor};
use crate::git::CommitInfo;
use crate::run::{Reporter, Workspaces};
use crate::storage::RunsDir;
use pipekit_schema::{JobId, Pipeline};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The host environment a run sees: what jobs inherit, and where `secrets:
/// {environment: …}` are looked up. The caller reads it (the CLI from its own process);
/// the library never does, so two runs in one process can see two environments.
pub type HostEnv = BTreeMap<String, String>;

/// One run to make.
pub struct RunRequest {
    /// The validated pipeline.
    pub pipeline: Arc<Pipeline>,
    /// The pipeline file as `run.json` names it.
    pub pipeline_file: String,
    pub source: RunSource,
    /// Where the run folder goes: `<runs>/<run id>/`.
    pub runs: RunsDir,
    pub options: SessionOptions,
    pub host_env: HostEnv,
    pub cancel: CancelSignal,
    /// The container engine, connected by the caller and shared by its runs; needed when
    /// [`RunPlan::needs_engine`](super::RunPlan::needs_engine) says so.
    pub engine: Option<Engine>,
    /// The process's host supervisor (see [`HostSupervisor::for_process`]).
    pub supervisor: Arc<HostSupervisor>,
    /// Where the run's events go, besides its own records (`run.json`, JUnit).
    pub events: Vec<Box<dyn Reporter>>,
}

/// What the jobs run on: the working tree, or checkouts of a commit or of the index.
pub struct RunSource {
    /// The source tree of each job.
    pub workspaces: Workspaces,
    /// What relative `env_file`, `build` and `volumes` paths are relative to.
    pub pipeline_dir: PathBuf,
    /// Where `secrets: {file: …}` paths start: the pipeline file's folder in the work tree,
    /// also for a commit (secret files are not committed).
    pub secrets_dir: PathBuf,
    /// The commit under test, when there is one (its variables go to every job).
    pub commit: Option<CommitInfo>,
    /// The pipeline file as containers are labelled with it (for `down`).
    pub label: PathBuf,
}

/// How the run behaves.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub fail_fast: bool,
    /// Run only these jobs and what they depend on (empty: all).
    pub only: Vec<JobId>,
    /// Between SIGTERM and SIGKILL when a job is stopped.
    pub stop_grace: Duration,
    /// Jobs with `image`/`build` run in containers (false: every job on the host).
    pub containers: bool,
    /// Detached container jobs are left up when the run ends.
    pub keep_running: bool,
    /// Bytes of output each job's log keeps (`None`: all).
    pub log_limit: Option<u64>,
    /// A copy of the JUnit report written there too (`--junit PATH`).
    pub extra_junit: Option<PathBuf>,
    /// A re-run: only some jobs run again, the others are reused from an earlier run.
    pub reuse: Option<Reuse>,
}
