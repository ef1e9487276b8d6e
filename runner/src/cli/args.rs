//! Command-line arguments (spec section 5).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    Validate(FileArg),
    /// Print the job graph.
    Graph(GraphArgs),
    /// Remove the containers `run --keep-running` left up for this pipeline file.
    Down(FileArg),
    /// Remove containers and networks of runs whose pipekit-ci died (kill -9, a crash).
    Gc,
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
    pub file: FileArg,
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
    /// Seconds between SIGTERM and SIGKILL when a job is stopped.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub stop_grace: f64,
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
    pub file: FileArg,
    #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
    pub format: GraphFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Text,
    Dot,
    Mermaid,
}
