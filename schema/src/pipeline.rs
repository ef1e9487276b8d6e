//! The validated pipeline model that the runner consumes.
//!
//! Everything here has already been checked: references point at existing jobs and
//! declared signals, the graph has no cycle, regexes compile, durations are numbers.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::filter_pattern::FilterPattern;

/// A validated pipeline: jobs in file order, addressed by [`JobId`].
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// `name:` or, when absent, the stem of the pipeline file.
    pub name: String,
    /// Pipeline-level `env:`, given to every job (a job's own `environment` wins).
    pub env: BTreeMap<String, String>,
    /// The jobs (Compose's `services`), in the order the file lists them.
    pub jobs: Vec<Job>,
    /// The `on:` block; `None` when the file has none, and then every push runs it.
    pub triggers: Option<Triggers>,
    /// Top-level `secrets:`, by name: where each value comes from.
    pub secrets: BTreeMap<String, SecretSource>,
}

/// Where a declared secret's value comes from; the runner reads it when a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `environment: VAR`: a variable of pipekit-ci's own environment.
    Environment(String),
    /// `file: ./path`: a file, relative to the pipeline file's folder.
    File(String),
}

/// The pipeline's `on:` block, as in GitHub Actions: which pushes run the pipeline.
///
/// pipekit-ci acts on pushes only; other events in the block are accepted and ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Triggers {
    /// `on.push`; `None` when `on:` names other events only, and then no push runs it.
    pub push: Option<PushTrigger>,
}

/// `on.push` and its filters, each `None` when not given: GitHub treats a filter that is
/// given, even empty, differently from one that is absent (a `branches` filter alone
/// means tag pushes do not run the pipeline).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushTrigger {
    pub branches: Option<Vec<FilterPattern>>,
    pub branches_ignore: Option<Vec<FilterPattern>>,
    pub tags: Option<Vec<FilterPattern>>,
    pub tags_ignore: Option<Vec<FilterPattern>>,
    pub paths: Option<Vec<FilterPattern>>,
    pub paths_ignore: Option<Vec<FilterPattern>>,
}

/// Index of a job in [`Pipeline::jobs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub usize);

/// Index of a declared signal in [`Job::signals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SignalId(pub usize);

/// One job (a Compose service).
#[derive(Debug, Clone, Default)]
pub struct Job {
    pub name: String,
    /// Container image; a job with neither `image` nor `build` runs on the host.
    pub image: Option<String>,
    pub build: Option<Build>,
    pub command: Option<Command>,
    pub entrypoint: Option<Command>,
    /// `environment:`; a `None` value means "take it from pipekit-ci's own environment",
    /// as Compose does for `- KEY` without `=`.
    pub environment: BTreeMap<String, Option<String>>,
    /// `env_file:` paths, relative to the pipeline file's directory.
    pub env_files: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub volumes: Vec<String>,
    pub ports: Vec<String>,
    pub labels: BTreeMap<String, String>,
    pub healthcheck: Option<Healthcheck>,
    /// Declared signals, in file order.
    pub signals: Vec<Signal>,
    /// Every condition must hold before the job starts.
    pub depends_on: Vec<Condition>,
    /// Long-running: the run does not wait for it to exit.
    pub detach: bool,
    /// Paths or globs, relative to the source tree, packed when the job exits 0.
    pub artifacts: Vec<String>,
    /// Paths or globs of JUnit files the job's own test runner writes.
    pub junit: Vec<String>,
    /// Wall-time limit for the job.
    pub timeout: Option<Duration>,
    /// Names of the declared secrets the job gets (as variables and, in a container, files).
    pub secrets: Vec<String>,
    /// Compose's `mem_limit` (containers only).
    pub mem_limit: Option<MemoryLimit>,
}

/// A memory limit, and how the pipeline wrote it (for messages: `mem_limit 16m`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryLimit {
    pub bytes: u64,
    pub text: String,
}

impl Job {
    /// Whether the job needs a container engine (`image` or `build`).
    pub fn needs_container(&self) -> bool {
        self.image.is_some() || self.build.is_some()
    }

    pub fn signal(&self, id: SignalId) -> &Signal {
        &self.signals[id.0]
    }
}

/// Compose's `build:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Build {
    pub context: String,
    pub dockerfile: Option<String>,
    pub args: BTreeMap<String, String>,
}

/// Compose's `command` / `entrypoint`: a string runs under `sh -c`, a list is exec form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Shell(String),
    Exec(Vec<String>),
}

/// Compose's `healthcheck:`, used by `condition: service_healthy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    /// `CMD-SHELL x` and a plain string become `Shell`, `CMD a b` becomes `Exec`.
    pub test: Command,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: u32,
    pub start_period: Duration,
}

/// A named milestone of a job, declared under `signals:`.
#[derive(Debug, Clone)]
pub struct Signal {
    pub name: String,
    pub kind: SignalKind,
    /// Counted from the job's start; `None` waits as long as the job runs.
    pub timeout: Option<Duration>,
}

/// The constructor of a declared signal.
#[derive(Debug, Clone)]
pub enum SignalKind {
    /// Fires when a line of `stream` matches `regex`.
    Grep { stream: Stream, regex: regex::Regex },
    /// Fires when `path` (relative to the shared storage root) exists.
    Exists { path: String },
    /// Fires when TCP `port` of the job accepts a connection.
    Port { port: u16 },
}

/// One of a job's two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One entry of `depends_on`: a milestone of another job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Condition {
    pub job: JobId,
    pub awaited: Awaited,
}

/// What a [`Condition`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Awaited {
    /// The job's process (or container) has started.
    Started,
    /// The job exited, with any code.
    Exited,
    /// The job exited with exactly this code.
    ExitCode(i32),
    /// A declared signal of the job fired.
    Signal(SignalId),
    /// The job's Compose `healthcheck` passed (`condition: service_healthy`).
    Healthy,
}

impl Pipeline {
    pub fn job(&self, id: JobId) -> &Job {
        &self.jobs[id.0]
    }

    pub fn job_ids(&self) -> impl Iterator<Item = JobId> + '_ {
        (0..self.jobs.len()).map(JobId)
    }

    pub fn find_job(&self, name: &str) -> Option<JobId> {
        self.jobs.iter().position(|job| job.name == name).map(JobId)
    }

    /// Renders a condition the way a user writes it: `db.ready`, `build.ExitCode(0)`.
    pub fn describe(&self, condition: Condition) -> String {
        let job = self.job(condition.job);
        match condition.awaited {
            Awaited::Started => format!("{}.Started", job.name),
            Awaited::Exited => format!("{}.Exited", job.name),
            Awaited::ExitCode(code) => format!("{}.ExitCode({code})", job.name),
            Awaited::Signal(id) => format!("{}.{}", job.name, job.signal(id).name),
            Awaited::Healthy => format!("{}.Healthy", job.name),
        }
    }

    /// Jobs whose `depends_on` names `id`.
    pub fn dependents(&self, id: JobId) -> impl Iterator<Item = JobId> + '_ {
        self.job_ids()
            .filter(move |other| self.job(*other).depends_on.iter().any(|c| c.job == id))
    }
}
