//! `pipekit-ci run`: the flags read, the process set up once (runtime, signal handlers,
//! host supervisor, environment), then the working tree or the commit's pipelines run
//! through the library's run session.

use super::args::RunArgs;
use super::commit_run::run_checkouts;
use super::error::CliError;
use super::interrupts::listen_for_interrupts;
use super::load::load;
use super::log_limit_option::{LOG_LIMIT_VARIABLE, LogLimit, resolve_log_limit};
use super::pipeline_run::{Invocation, Subject, run_pipeline};
use super::push::push_event;
use super::run_places::{environment, git_dir_set, pipeline_file_label, run_base_of};
use super::workspace::source_tree;
use crate::commit_test::PushEvent;
use crate::executor::HostSupervisor;
use crate::git::{Revision, SourceRepo};
use crate::run::Workspaces;
use crate::session::HostEnv;
use std::time::Duration;

/// A job that needs more than an hour to stop is not stopping.
const MAX_STOP_GRACE: Duration = Duration::from_secs(3600);

pub fn run(mut args: RunArgs) -> Result<u8, CliError> {
    let stop_grace = Duration::try_from_secs_f64(args.stop_grace)
        .ok()
        .filter(|grace| *grace <= MAX_STOP_GRACE)
        .ok_or_else(|| {
            CliError::InvalidInput(format!(
                "--stop-grace takes a number of seconds from 0 to {}, not `{}`",
                MAX_STOP_GRACE.as_secs(),
                args.stop_grace
            ))
        })?;
    // Settled before anything runs, so a bad variable stops the run as invalid input.
    let log_limit = resolve_log_limit(args.log_limit, variable(LOG_LIMIT_VARIABLE).as_deref())?;
    args.log_limit = Some(LogLimit(log_limit));
    let push = push_event(&args)?;
    let revision = revision(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Environment(format!("cannot start the runtime: {error}")))?;
    // Orphans of jobs (`setsid sleep &`) re-parent to pipekit-ci rather than to init, so
    // they stay its to find and reap.
    let supervisor = HostSupervisor::for_process();
    runtime.block_on(async {
        let invocation = Invocation {
            stop_grace,
            log_limit,
            host_env: host_environment(),
            docker_host: variable("DOCKER_HOST").filter(|host| !host.is_empty()),
            cancel: listen_for_interrupts()?,
            supervisor: supervisor.clone(),
        };
        let result = match revision {
            Revision::WorkingTree => run_working_tree(&args, &invocation, push.as_ref()).await,
            revision => run_checkouts(&args, &invocation, push.as_ref(), &revision).await,
        };
        // No run of this process is going on any more: what shed its tag can go too.
        supervisor.kill_strays().await;
        result
    })
}

/// The process's environment, as the runs see it; a variable that is not UTF-8 counts as
/// unset.
fn host_environment() -> HostEnv {
    std::env::vars_os()
        .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
        .collect()
}

fn revision(args: &RunArgs) -> Result<Revision, CliError> {
    match (&args.commit, args.staged) {
        (Some(_), true) => Err(CliError::InvalidInput(
            "--commit and --staged name two different things to test; give one".into(),
        )),
        (Some(rev), false) => Ok(Revision::Commit(rev.clone())),
        (None, true) => Ok(Revision::Staged),
        (None, false) if args.keep_workspace => Err(CliError::InvalidInput(
            "--keep-workspace keeps the checkouts of --commit or --staged; a working-tree run \
             has none"
                .into(),
        )),
        (None, false) => Ok(Revision::WorkingTree),
    }
}

/// The default: every job runs in the working tree as it is.
async fn run_working_tree(
    args: &RunArgs,
    invocation: &Invocation,
    push: Option<&PushEvent>,
) -> Result<u8, CliError> {
    let loaded = load(&args.project)?;
    let workspace = source_tree(&loaded.dir);
    let repo = SourceRepo::open(&loaded.dir, git_dir_set()).ok();
    let commit = repo.as_ref().and_then(SourceRepo::head);
    if let Some(push) = push {
        let changed = match (&repo, &push.before, &commit) {
            (Some(repo), Some(before), Some(_)) => Some(
                repo.changed_paths(before, head_tree(repo)?)
                    .map_err(environment)?,
            ),
            _ => None,
        };
        if let Some(why) = push.skip_reason(&loaded.parsed.pipeline, changed.as_deref()) {
            err_println!("{}: not run: {why}", loaded.path.display());
            return Ok(0);
        }
    }
    let label = pipeline_file_label(&loaded.path);
    let subject = Subject {
        run_base: run_base_of(&loaded.dir),
        pipeline_dir: loaded.dir.clone(),
        secrets_dir: loaded.dir.clone(),
        workspaces: Workspaces::Shared(workspace),
        commit,
        label,
        loaded,
    };
    run_pipeline(args, invocation, subject).await
}

fn head_tree(repo: &SourceRepo) -> Result<git2::Oid, CliError> {
    repo.resolve("HEAD", None)
        .map(|(_, tree)| tree)
        .map_err(environment)
}

/// An environment variable's value; one that is not UTF-8 counts as unset.
fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
