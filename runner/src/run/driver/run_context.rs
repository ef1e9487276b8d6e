//! What a run is given: its options and everything it needs.

use crate::executor::Executors;
use crate::run::plan::RunPlan;
use crate::run::reused_jobs::ReusedJobs;
use crate::run::workspaces::Workspaces;
use crate::secrets::RunSecrets;
use crate::storage::{ArtifactStore, RunFolder};
use pipekit_schema::{JobId, Pipeline};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How the run behaves, from the command line.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub fail_fast: bool,
    /// Run only these jobs and what they depend on (empty: all).
    pub only: Vec<JobId>,
    /// Between SIGTERM and SIGKILL when a job is stopped.
    pub stop_grace: Duration,
    /// Detached container jobs are left up when the run ends.
    pub keep_running: bool,
    /// Bytes of output each job's log keeps (`None`: all).
    pub log_limit: Option<u64>,
}

/// Everything one run needs.
pub struct RunContext {
    pub pipeline: Arc<Pipeline>,
    pub folder: Arc<RunFolder>,
    /// The source tree each job runs in.
    pub workspaces: Workspaces,
    /// Directory of the pipeline file (for `env_file`).
    pub pipeline_dir: PathBuf,
    /// Variables pipekit-ci sets for every job besides its own `PIPEKIT_*` (the commit).
    pub run_variables: Vec<(String, String)>,
    /// The executor of each placement; the plan says which job goes where.
    pub executors: Executors,
    /// Scope and placement of every job, decided before the run.
    pub plan: RunPlan,
    pub options: RunOptions,
    /// The values jobs get, and the masking of all of them in everything written.
    pub secrets: Arc<RunSecrets>,
    /// Where the jobs' archives go and come from.
    pub artifacts: Arc<dyn ArtifactStore>,
    /// The host environment jobs inherit (the caller's, never read here).
    pub host_env: BTreeMap<String, String>,
    /// A re-run's jobs taken over from an earlier run (none for a run of its own).
    pub reused: ReusedJobs,
}
