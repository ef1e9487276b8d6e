//! What every run of the service shares, decided once as it starts.

use crate::access::AccessPolicy;
use crate::mirror::Mirror;
use crate::push_policy::PushPolicy;
use crate::retention::Retention;
use crate::status::StatusSettings;
use crate::webhook::WebhookSecret;
use pipekit_runner::executor::{Engine, HostSupervisor};
use pipekit_runner::session::HostEnv;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The service's settings and the process-wide parts its runs share.
#[derive(Debug, Clone)]
pub struct Service {
    /// Where the database, the run folders and the checkouts go.
    pub data_dir: PathBuf,
    /// Each served repository by name: where its commits are read, a work tree or a bare
    /// repository on this machine (for one elsewhere, its mirror). Names are folder names
    /// (see [`is_repository_name`]).
    pub repositories: BTreeMap<String, PathBuf>,
    /// The repositories that live elsewhere, by name: fetched into their mirror (the path
    /// in `repositories`) before each poll, hook notice and webhook.
    pub mirrors: BTreeMap<String, Arc<Mirror>>,
    /// The secret each repository's forge signs its webhooks with, by repository; one
    /// without takes forge webhooks from this machine only.
    pub webhook_secrets: BTreeMap<String, WebhookSecret>,
    /// Which branches each repository tests, by repository; one not named tests all.
    pub push_policies: BTreeMap<String, PushPolicy>,
    /// Where each repository's commit statuses go, and what they link to.
    pub statuses: StatusSettings,
    /// The API tokens, and whether reads need one.
    pub access: AccessPolicy,
    /// How much history each repository keeps (`None`: all of it).
    pub keep: Option<Retention>,
    /// Runs at once; the others wait in the queue.
    pub max_runs: usize,
    /// What jobs inherit, read by the caller (the library never reads the process's).
    pub host_env: HostEnv,
    pub supervisor: Arc<HostSupervisor>,
    /// The container engine, when there is one: jobs with `image` run in it.
    pub engine: Option<Engine>,
    /// Between SIGTERM and SIGKILL when a job is stopped.
    pub stop_grace: Duration,
    /// Bytes of output each job's log keeps (`None`: all).
    pub log_limit: Option<u64>,
}

impl Service {
    /// How `repository`'s pushes are taken.
    pub fn push_policy(&self, repository: &str) -> &PushPolicy {
        self.push_policies
            .get(repository)
            .unwrap_or(&DEFAULT_PUSH_POLICY)
    }

    /// `pipekit.db` in the data folder.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("pipekit.db")
    }

    /// `runs/<repository>/`: the repository's run folders, laid out as spec 3 says.
    pub fn runs_dir(&self, repository: &str) -> PathBuf {
        self.data_dir.join("runs").join(repository)
    }

    /// `secrets/<repository>/`: where `secrets: {file: …}` paths start (secret files are
    /// not committed, so they cannot come from the commit).
    pub fn secrets_dir(&self, repository: &str) -> PathBuf {
        self.data_dir.join("secrets").join(repository)
    }
}

/// `mirrors/<name>.git` in the data folder `data_dir`.
pub fn mirror_path(data_dir: &Path, name: &str) -> PathBuf {
    data_dir.join("mirrors").join(format!("{name}.git"))
}

/// A static rather than the constant itself: a policy holds patterns, so a reference to
/// the constant would be to a temporary.
static DEFAULT_PUSH_POLICY: PushPolicy = PushPolicy::DEFAULT;

pub use pipekit_runner::git::is_repository_name;
