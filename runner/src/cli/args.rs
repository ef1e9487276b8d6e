//! Command-line arguments (spec section 5).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

use super::log_limit_option::{LogLimit, log_limit};

#[derive(Debug, Parser)]
#[command(
    name = "pipekit-ci",
    version,
    about = "Run a pipeline of jobs gated on signals"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline in the working tree.
    Run(RunArgs),
    /// Check the pipeline file and report every problem in it.
    Validate(ProjectArgs),
    /// Print the job graph.
    Graph(GraphArgs),
    /// Remove the containers `run --keep-running` left up for this pipeline file.
    Down(FileArg),
    /// Clean up after runs whose pipekit-ci died (kill -9, a crash): kill their host
    /// processes, mark their run.json interrupted (runs of FILE), and remove their
    /// containers and networks (all of this host's).
    Gc(FileArg),
    /// Install or remove the git hook that runs the pipelines (pre-push by default).
    #[command(subcommand)]
    Hook(HookCommand),
    /// The self-hosted CI service: serves the git repository it is started in, with its
    /// queue and history in DIR, over HTTP (spec section 8).
    Serve(ServeArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The repositories to serve, where to listen, how many runs at once (spec section 8);
    /// without it, the git repository the server is started in.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the database and the run folders go.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "pipekit-data",
        global = true
    )]
    pub data: PathBuf,
    /// The address to listen on (port 0: any free port, printed as it starts); default the
    /// config's `listen`, else 127.0.0.1:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Seconds between two reads of a repository's branches (0: never; a fraction is
    /// fine), for repositories whose config says no `poll`.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub poll: f64,
    /// Instead of serving: manage the service's data.
    #[command(subcommand)]
    pub action: Option<ServeAction>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ServeAction {
    /// The web UI's local users.
    #[command(subcommand)]
    User(UserAction),
}

#[derive(Debug, Clone, Subcommand)]
pub enum UserAction {
    /// Adds a user to the database in DIR; the password is read from standard input (its
    /// first line).
    Add {
        name: String,
        #[arg(long, value_parser = ["viewer", "operator", "admin"])]
        role: String,
    },
}

/// The pipeline as Compose reads a project: its files, profiles and env files.
#[derive(Debug, Clone, Default, Args)]
pub struct ProjectArgs {
    /// Pipeline file (default: pipekit.yml, else pipekit.yaml, in the current directory);
    /// given again, each later file is merged over the ones before, as Compose's `-f`.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also run the jobs of this Compose profile (jobs with `profiles:` are out otherwise).
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Read `${VAR}` values from this file instead of the `.env` beside the pipeline file.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
}

impl ProjectArgs {
    /// The first `-f` file: the one the run folder and the paths are relative to.
    pub fn file(&self) -> Option<&PathBuf> {
        self.files.first()
    }
}

#[derive(Debug, Args)]
pub struct FileArg {
    /// Pipeline file (default: pipekit.yml, else pipekit.yaml, in the current directory).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    /// Where jobs run: `auto` puts `image`/`build` jobs in containers and the rest on the
    /// host; `docker` requires a reachable Docker engine (jobs without an image still run
    /// on the host); `local` runs every job's command on the host and ignores images.
    #[arg(long, value_enum, default_value_t = ExecutorChoice::Auto)]
    pub executor: ExecutorChoice,
    /// Also write the JUnit report here.
    #[arg(long, value_name = "PATH")]
    pub junit: Option<PathBuf>,
    /// Stop everything at the first failure.
    #[arg(long)]
    pub fail_fast: bool,
    /// Leave detached container jobs running when the run ends (`pipekit-ci down` removes
    /// them).
    #[arg(long)]
    pub keep_running: bool,
    /// Run only this job and what it depends on (repeatable).
    #[arg(long = "only", value_name = "JOB")]
    pub only: Vec<String>,
    /// Plain `job | line` output even on a terminal.
    #[arg(long)]
    pub no_progress: bool,
    /// How much output each job's log keeps (`64M`, `512K`, `1G`; `0` or `none`: all of it;
    /// default: `$PIPEKIT_LOG_LIMIT`, else 64M). Past it, output is still read and matched
    /// by `Grep` signals, but not kept or shown.
    #[arg(long, value_name = "SIZE", value_parser = log_limit)]
    pub log_limit: Option<LogLimit>,
    /// Seconds between SIGTERM and SIGKILL when a job is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub stop_grace: f64,
    /// Test this commit (any revision: a sha, a branch, `HEAD~1`): each job gets its own
    /// clean checkout of it; the working tree is not touched.
    #[arg(long, value_name = "REV")]
    pub commit: Option<String>,
    /// Test what is staged (the index), each job in its own clean checkout of it.
    #[arg(long)]
    pub staged: bool,
    /// Keep the checkouts of `--commit`/`--staged` after the run, and say where.
    #[arg(long)]
    pub keep_workspace: bool,
    /// Decide from the pipeline's `on:` triggers whether this event concerns it; without
    /// `-f`, every pipeline file of the commit is considered.
    #[arg(long, value_enum, value_name = "EVENT")]
    pub event: Option<EventKind>,
    /// The pushed ref (`refs/heads/main`, `refs/tags/v1.0`).
    #[arg(long = "ref", value_name = "REF")]
    pub reference: Option<String>,
    /// The commit the ref pointed at before the push (for `paths` filters).
    #[arg(long, value_name = "SHA")]
    pub before: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EventKind {
    Push,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExecutorChoice {
    Auto,
    Local,
    Docker,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Mermaid,
}

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Install the hook; a hook already there is kept and runs first.
    Install(HookArgs),
    /// Remove pipekit-ci's hook and put back the hook it replaced.
    Uninstall(HookArgs),
    /// What the installed hook runs when git calls it.
    #[command(hide = true)]
    Run(HookRunArgs),
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// Which git hook.
    #[arg(long = "hook", value_enum, default_value_t = crate::hooks::HookKind::PrePush)]
    pub hook: crate::hooks::HookKind,
    /// With `--hook post-receive`: tell the `pipekit-ci serve` at this http:// URL about
    /// each push instead of running the pipelines here.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
}

#[derive(Debug, Args)]
pub struct HookRunArgs {
    /// The server the hook tells (`hook install --server`).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    #[arg(value_enum)]
    pub kind: crate::hooks::HookKind,
    /// The arguments git gave the hook.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub arguments: Vec<std::ffi::OsString>,
}
