//! `pipekit-ci run`: the whole run, from the file to the reports and the exit code.

use super::args::{EventKind, ExecutorChoice, RunArgs};
use super::commit_run::run_checkouts;
use super::console::Console;
use super::containers::pipeline_file_label;
use super::diagnosis::{diagnosis, summary_table};
use super::error::CliError;
use super::load::{Loaded, load};
use super::log_limit_option::{LOG_LIMIT_VARIABLE, LogLimit, resolve_log_limit};
use super::workspace::source_tree;
use crate::executor::{
    DockerExecutor, Engine, LocalExecutor, Owner, Router, RunIdentity, become_subreaper,
    reap_orphans_as_they_exit,
};
use crate::git::{CommitInfo, GitError, Revision, SourceRepo};
use crate::recovery::{DeadRun, claim, recover_dead_runs, release};
use crate::report::{RunRecord, write_junit, write_run_json};
use crate::run::{
    EventLog, ProblemKind, Recorder, Reporter, RunContext, RunHeader, RunOptions, Workspaces,
    execute,
};
use crate::scheduler::{Dispatcher, may_overlap};
use crate::secrets::{Masker, RunSecrets};
use crate::storage::{REPORT_RESERVE_BYTES, RunFolder, SpaceReserve};
use crate::triggers::{Decision as TriggerDecision, decide, parse_ref};
use pipekit_schema::{JobId, Pipeline};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

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
    // Orphans of jobs (`setsid sleep &`) re-parent to pipekit-ci rather than to init, so
    // they stay its to find and reap (executor/descendants.rs).
    become_subreaper();
    match revision(&args)? {
        Revision::WorkingTree => run_working_tree(&args, stop_grace, push.as_ref()),
        revision => run_checkouts(&args, stop_grace, push.as_ref(), &revision),
    }
}

/// `--event push --ref REF [--before SHA]`: what was pushed.
pub(super) struct PushEvent {
    pub(super) reference: String,
    pub(super) before: Option<String>,
}

fn push_event(args: &RunArgs) -> Result<Option<PushEvent>, CliError> {
    match (&args.event, &args.reference) {
        (None, None) if args.before.is_none() => Ok(None),
        (Some(EventKind::Push), Some(reference)) => Ok(Some(PushEvent {
            reference: reference.clone(),
            // All zeros: the branch is new, there is nothing to compare with.
            before: args
                .before
                .clone()
                .filter(|before| !before.chars().all(|c| c == '0')),
        })),
        _ => Err(CliError::InvalidInput(
            "--event push needs --ref REF (and takes --before SHA); --ref and --before need \
             --event push"
                .into(),
        )),
    }
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
fn run_working_tree(
    args: &RunArgs,
    stop_grace: Duration,
    push: Option<&PushEvent>,
) -> Result<u8, CliError> {
    let loaded = load(&args.file.file)?;
    let workspace = source_tree(&loaded.dir);
    let repo = SourceRepo::open(&loaded.dir).ok();
    let commit = repo.as_ref().and_then(SourceRepo::head);
    if let Some(push) = push {
        let changed = match (&repo, &push.before, &commit) {
            (Some(repo), Some(before), Some(_)) => Some(
                repo.changed_paths(before, head_tree(repo)?)
                    .map_err(environment)?,
            ),
            _ => None,
        };
        if let Some(why) = skipped(&loaded.parsed.pipeline, push, changed.as_deref()) {
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
    run_one(args, stop_grace, subject)
}

fn head_tree(repo: &SourceRepo) -> Result<git2::Oid, CliError> {
    repo.resolve("HEAD", None)
        .map(|(_, tree)| tree)
        .map_err(environment)
}

/// Why the push does not concern the pipeline, if it does not.
pub(super) fn skipped(
    pipeline: &Pipeline,
    push: &PushEvent,
    changed: Option<&[String]>,
) -> Option<String> {
    let pushed = parse_ref(&push.reference);
    match decide(pipeline.triggers.as_ref(), &pushed, changed) {
        TriggerDecision::Run => None,
        TriggerDecision::Skip(why) => Some(why),
    }
}

/// Where a pipeline file's `.pipekit/runs/` goes: its directory, except that the files in
/// `.pipekit/` itself keep their runs in that same `.pipekit/runs/` (one folder to ignore).
pub(super) fn run_base_of(pipeline_dir: &Path) -> PathBuf {
    match (pipeline_dir.file_name(), pipeline_dir.parent()) {
        (Some(name), Some(parent)) if name == ".pipekit" => parent.to_path_buf(),
        _ => pipeline_dir.to_path_buf(),
    }
}

pub(super) fn environment(error: GitError) -> CliError {
    CliError::Environment(error.to_string())
}

/// One pipeline to run, and where.
pub(super) struct Subject {
    pub(super) loaded: Loaded,
    /// Where `.pipekit/runs/` goes: the directory of the pipeline file (see `run_base_of`).
    pub(super) run_base: PathBuf,
    /// What relative `env_file`, `build` and `volumes` paths are relative to.
    pub(super) pipeline_dir: PathBuf,
    /// Where `secrets: {file: …}` paths start: the pipeline file's folder in the work tree,
    /// also for a commit (secret files are not committed).
    pub(super) secrets_dir: PathBuf,
    pub(super) workspaces: Workspaces,
    pub(super) commit: Option<CommitInfo>,
    /// The pipeline file as containers are labelled with it (for `down`).
    pub(super) label: PathBuf,
}

pub(super) fn run_one(
    args: &RunArgs,
    stop_grace: Duration,
    subject: Subject,
) -> Result<u8, CliError> {
    let Subject {
        loaded: Loaded { parsed, path, .. },
        run_base: dir,
        pipeline_dir,
        secrets_dir,
        workspaces,
        commit,
        label,
    } = subject;
    let pipeline = Arc::new(parsed.pipeline);
    let only = resolve_only(&pipeline, &args.only)?;
    let scope = Dispatcher::new(pipeline.clone(), &only, false);
    // Before anything is started or written: a missing or unsafe secret stops the run here.
    let secrets = RunSecrets::resolve(
        &pipeline,
        |id| scope.in_scope(id),
        &secrets_dir,
        |variable| std::env::var_os(variable),
    )
    .map_err(|error| CliError::Environment(error.to_string()))?;
    let secrets = Arc::new(secrets);
    super::error::mask_errors_with(secrets.masker());
    let needs_engine = needs_engine(&pipeline, args.executor, |id| scope.in_scope(id));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| CliError::Environment(format!("cannot start the runtime: {error}")))?;
    // Before the run folder: without an engine nothing runs and nothing is written.
    let engine = match needs_engine {
        true => Some(
            runtime
                .block_on(Engine::connect())
                .map_err(|error| CliError::Environment(error.to_string()))?,
        ),
        false => None,
    };

    let names: Vec<&str> = pipeline.jobs.iter().map(|job| job.name.as_str()).collect();
    report_dead_runs(&runtime.block_on(recover_dead_runs(&runs_dir(&dir))));
    let folder = RunFolder::create(&dir, &names).map_err(|error| {
        CliError::Environment(format!(
            "{}; is the directory of the pipeline file writable, with space left?",
            with_cause(error)
        ))
    })?;
    claim(&folder).map_err(|error| CliError::Environment(error.to_string()))?;
    let folder = Arc::new(folder);
    let reserve = SpaceReserve::claim(folder.space_reserve_path(), REPORT_RESERVE_BYTES);
    let masker = secrets.masker();
    // run.json and junit.xml are folds over the events: the recorder follows the log.
    let recorder = Recorder::default();
    let header = RunHeader {
        pipeline_file: path.display().to_string(),
        commit: commit.clone(),
    };
    let events = EventLog::create(
        folder.clone(),
        &pipeline,
        |id| scope.in_scope(id),
        header,
        masker.clone(),
        recorder.clone(),
    )
    .map_err(|error| {
        release(&folder);
        CliError::Environment(with_cause(error))
    })?;
    // Written now, so even a run killed outright leaves a record behind (masked: the commit
    // message may hold a secret, and recovery rewrites this file as it finds it).
    let masked = |recorder: &Recorder| {
        recorder
            .snapshot()
            .masked(masker)
            .map_err(|error| CliError::Environment(error.to_string()))
    };
    write_run_json(&masked(&recorder)?, &folder.run_json_path()).map_err(|error| {
        events.problem(ProblemKind::Reports, &with_cause(&error));
        events.finish();
        release(&folder);
        CliError::Environment(with_cause(error))
    })?;
    // After the last early return: from here on, the run ends through `execute`, which
    // removes what the engine made.
    let mut engine_lost = None;
    let docker = match engine {
        Some(engine) => {
            let identity = RunIdentity {
                run_id: folder.id().to_string(),
                pipeline_file: label,
                owner: Owner::current(),
            };
            let containers: Vec<JobId> = pipeline
                .job_ids()
                .filter(|id| scope.in_scope(*id) && pipeline.job(*id).needs_container())
                .collect();
            let started = runtime.block_on(DockerExecutor::start(
                engine,
                identity,
                may_overlap(&pipeline, &containers),
                args.keep_running,
            ));
            match started {
                Ok(docker) => {
                    engine_lost = Some(docker.engine_lost());
                    Some(docker)
                }
                Err(error) => {
                    events.problem(ProblemKind::EngineUnavailable, &error.to_string());
                    let _ = events.finish_with_reports(|record| {
                        write_run_json(&record.masked(masker)?, &folder.run_json_path())
                    });
                    release(&folder);
                    return Err(CliError::Environment(error.to_string()));
                }
            }
        }
        None => None,
    };

    let live = std::io::stderr().is_terminal() && !args.no_progress;
    let mut reporters: Vec<Box<dyn Reporter>> = vec![
        Box::new(Console::new(pipeline.clone(), live)),
        Box::new(events.clone()),
    ];
    let context = RunContext {
        pipeline: pipeline.clone(),
        folder: folder.clone(),
        workspaces: workspaces.clone(),
        pipeline_dir,
        run_variables: commit
            .as_ref()
            .map(CommitInfo::variables)
            .unwrap_or_default(),
        executor: Arc::new(Router {
            local: LocalExecutor::new(stop_grace),
            docker,
        }),
        options: RunOptions {
            fail_fast: args.fail_fast,
            only,
            stop_grace,
            containers: args.executor != ExecutorChoice::Local,
            keep_running: args.keep_running,
            // Settled by `run`: the flag, else the variable, else the default.
            log_limit: resolve_log_limit(args.log_limit, None)?,
        },
        secrets: secrets.clone(),
    };
    // Whether it was interrupted is the events' to say (`run_finished`).
    runtime.block_on(async {
        let interrupts = listen_for_interrupts()?;
        let reaper = tokio::spawn(reap_orphans_as_they_exit());
        let _stop_reaper = AbortOnDrop(reaper.abort_handle());
        Ok::<bool, CliError>(execute(context, &mut reporters, interrupts).await)
    })?;
    drop(reporters);

    let lost = engine_lost.as_ref().and_then(|lost| lost.get().cloned());
    let write_failure = folder.write_failure().map(str::to_owned);
    if let Some(lost) = &lost {
        events.problem(ProblemKind::EngineLost, &lost.to_string());
    }
    if let Some(failure) = &write_failure {
        events.problem(ProblemKind::WriteFailure, failure);
    }
    // The reserved blocks are what the reports are written into when the logs filled the disk.
    drop(reserve);
    let (end, reports) = events.finish_with_reports(|record| {
        let record = record.masked(masker).map_err(with_cause)?;
        write_reports(&record, &folder, args.junit.as_deref(), masker)
    });
    let record = end
        .record
        .masked(masker)
        .map_err(|error| CliError::Environment(with_cause(error)))?;
    if reports.is_err() {
        // run.json must not say `passed` for a run that ends with exit 3.
        let _ = write_run_json(&record, &folder.run_json_path());
    }
    release(&folder);
    err_print!("\n{}", summary_table(&record));
    if let Some(text) = diagnosis(&record, folder.root()) {
        err_print!("\n{text}");
    }
    err_println!("\nreports: {}", folder.root().display());
    let lost_problem = lost.map(|lost| {
        format!(
            "{lost}; the run could not go on (its containers are removed by the next run or \
             `pipekit-ci gc` once the engine is back)"
        )
    });
    let log_problem = write_failure.map(|failure| {
        format!(
            "{failure}; the run is marked errored: its jobs ran to their end, but their logs \
             are incomplete"
        )
    });
    let problems: Vec<String> = lost_problem
        .into_iter()
        .chain(log_problem)
        .chain(reports.err())
        .map(|problem| masker.mask(&problem).into_owned())
        .collect();
    if !problems.is_empty() {
        return Err(CliError::Environment(problems.join("\nerror: ")));
    }
    Ok(end.exit_code)
}

/// `<base>/.pipekit/runs/`, where the runs of a pipeline file go.
pub(super) fn runs_dir(run_base: &Path) -> PathBuf {
    run_base.join(".pipekit").join("runs")
}

/// One note per dead run that was cleaned up.
pub(super) fn report_dead_runs(recovered: &[DeadRun]) {
    for run in recovered {
        let plural = if run.processes == 1 { "" } else { "es" };
        err_println!(
            "note: run {} was left behind by a pipekit-ci that died (pid {}): {} process{plural} \
             killed{}",
            run.run_id,
            run.owner_pid,
            run.processes,
            if run.marked_interrupted {
                ", run.json marked interrupted"
            } else {
                ""
            }
        );
    }
}

/// Aborts a background task when the scope that needed it ends.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An environment variable's value; one that is not UTF-8 counts as unset.
fn variable(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn resolve_only(pipeline: &Pipeline, names: &[String]) -> Result<Vec<JobId>, CliError> {
    names
        .iter()
        .map(|name| {
            pipeline.find_job(name).ok_or_else(|| {
                let known: Vec<&str> = pipeline.jobs.iter().map(|j| j.name.as_str()).collect();
                CliError::InvalidInput(format!(
                    "--only `{name}`: no such job; the jobs are {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// Whether the run needs a container engine: `docker` always, `auto` when a job in scope
/// has an `image` or `build`, `local` never (images are ignored, with a note).
fn needs_engine(
    pipeline: &Pipeline,
    choice: ExecutorChoice,
    in_scope: impl Fn(JobId) -> bool,
) -> bool {
    let container_job = pipeline
        .job_ids()
        .any(|id| in_scope(id) && pipeline.job(id).needs_container());
    match choice {
        ExecutorChoice::Docker => true,
        ExecutorChoice::Auto => container_job,
        ExecutorChoice::Local => {
            if container_job {
                err_println!(
                    "note: --executor local: images are ignored, every command runs on this host"
                );
            }
            false
        }
    }
}

/// SIGINT, SIGTERM, SIGHUP (a closed terminal) and SIGQUIT each send one message: the first
/// stops gracefully, the next forces. Jobs run in their own process groups, so without this
/// a hang-up would orphan them.
fn listen_for_interrupts() -> Result<mpsc::UnboundedReceiver<()>, CliError> {
    use tokio::signal::unix::{SignalKind, signal};
    let (sender, receiver) = mpsc::unbounded_channel();
    let install = |kind| {
        signal(kind).map_err(|e| CliError::Environment(format!("cannot handle signals: {e}")))
    };
    let mut interrupt = install(SignalKind::interrupt())?;
    let mut terminate = install(SignalKind::terminate())?;
    let mut hangup = install(SignalKind::hangup())?;
    let mut quit = install(SignalKind::quit())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = interrupt.recv() => {}
                Some(()) = terminate.recv() => {}
                Some(()) = hangup.recv() => {}
                Some(()) = quit.recv() => {}
                else => break,
            }
            if sender.send(()).is_err() {
                break;
            }
        }
    });
    Ok(receiver)
}

/// Writes `run.json`, `junit.xml` and the `--junit` copy; a failure says what the OS said.
fn write_reports(
    record: &RunRecord,
    folder: &RunFolder,
    extra_junit: Option<&Path>,
    masker: &Masker,
) -> Result<(), String> {
    let xml_masker = masker
        .with_xml_escapes()
        .map_err(|error| error.to_string())?;
    write_run_json(record, &folder.run_json_path()).map_err(with_cause)?;
    write_junit(record, folder.root(), &folder.junit_path(), &xml_masker).map_err(with_cause)?;
    if let Some(path) = extra_junit {
        write_junit(record, folder.root(), path, &xml_masker).map_err(with_cause)?;
    }
    Ok(())
}

/// `failed to write `run.json`: No space left on device (os error 28)`.
fn with_cause(error: impl std::error::Error) -> String {
    match error.source() {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}
