//! `run --commit REV` and `run --staged`: the pipelines of a commit (or of the index), each
//! job in its own clean checkout. Everything is read from the repository's objects; the
//! user's work tree only receives the run folders.

use super::args::RunArgs;
use super::error::CliError;
use super::load::{Loaded, use_color};
use super::pipeline_run::{Invocation, Subject, run_pipeline};
use super::run_places::{environment, git_dir_set, run_base_of};
use crate::commit_test::{
    CommitPlan, CommitPlanError, FileOutcome, PipelineChoice, PlannedFile, PushEvent, export,
};
use crate::git::{Checkouts, CommitInfo, Revision, SourceRepo};
use crate::lexical_path::normalized;
use crate::run::Workspaces;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Runs every pipeline of the commit that applies, one after the other; the worst exit
/// code wins, and an interrupt stops the rest.
pub(super) async fn run_checkouts(
    args: &RunArgs,
    invocation: &Invocation,
    push: Option<&PushEvent>,
    revision: &Revision,
) -> Result<u8, CliError> {
    if args.project.files.len() > 1
        || !args.project.profiles.is_empty()
        || !args.project.env_files.is_empty()
    {
        // The commit's own files are read from its objects; override files, profiles and
        // env files from outside it would make the run test something the commit is not.
        return Err(CliError::InvalidInput(
            "--commit/--staged test one pipeline file as committed: a second -f, --profile and \
             --env-file are for runs of the working tree"
                .into(),
        ));
    }
    if args.keep_running && !args.keep_workspace {
        return Err(CliError::InvalidInput(
            "--keep-running with --commit/--staged leaves containers using checkouts that the \
             run removes; add --keep-workspace to keep them"
                .into(),
        ));
    }
    let cwd = std::env::current_dir()
        .map_err(|error| CliError::Environment(format!("no current directory: {error}")))?;
    let start = match args.project.file() {
        Some(file) => normalized(&cwd.join(file))
            .parent()
            .map(Path::to_path_buf)
            .filter(|dir| dir.is_dir())
            .unwrap_or_else(|| cwd.clone()),
        None => cwd.clone(),
    };
    let repo = SourceRepo::open(&start, git_dir_set()).map_err(environment)?;
    let choice = match (args.project.file(), push.is_some()) {
        (Some(file), _) => PipelineChoice::File(in_repository(&repo, file, &cwd)?),
        (None, true) => PipelineChoice::All,
        (None, false) => PipelineChoice::DefaultIn(in_repository(&repo, Path::new("."), &cwd)?),
    };
    let plan = CommitPlan::read(&repo, revision, push, &choice).map_err(planning)?;
    let CommitPlan {
        commit,
        tree,
        shown,
        files,
    } = plan;
    if files.is_empty() {
        err_println!("{shown}: no pipekit.yml, pipekit.yaml or .pipekit/*.yml; nothing to run");
        return Ok(0);
    }
    // Every file was read and validated, and every trigger decided, before anything runs
    // or is checked out: invalid input runs nothing.
    let mut chosen: Vec<(PathBuf, Loaded)> = Vec::new();
    for PlannedFile { path, outcome } in files {
        match outcome {
            FileOutcome::Run(parsed) => {
                let loaded = Loaded {
                    parsed,
                    path: path.clone(),
                    dir: PathBuf::new(),
                };
                chosen.push((path, loaded));
            }
            FileOutcome::NotTriggered(why) => err_println!("{}: not run: {why}", path.display()),
            FileOutcome::Unreadable(error) => {
                return Err(CliError::InvalidInput(error.to_string()));
            }
            FileOutcome::Invalid { problems, .. } => {
                return Err(CliError::InvalidInput(problems.render(use_color())));
            }
        }
    }
    if chosen.is_empty() {
        return Ok(0);
    }

    let began = std::time::Instant::now();
    let exported = export(&repo, tree, &std::env::temp_dir(), &invocation.cancel);
    if invocation.cancel.is_cancelled() {
        // Dropping the export removes it: nothing of an interrupted start is left in /tmp.
        drop(exported);
        err_println!("interrupted while exporting {shown}; nothing ran");
        return Ok(CliError::INTERRUPTED);
    }
    let checkouts = Arc::new(exported.map_err(environment)?);
    announce(&commit, &shown, &checkouts, began.elapsed());
    let home = repo.workdir().unwrap_or(repo.git_dir()).to_path_buf();
    let mut worst = 0u8;
    for (index, (file, mut loaded)) in chosen.into_iter().enumerate() {
        let folder = file.parent().unwrap_or(Path::new(""));
        // Relative paths of the pipeline (env_file, build, volumes) are the commit's too.
        loaded.dir = checkouts.exported().join(folder);
        let run_base = run_base_of(&home.join(folder));
        std::fs::create_dir_all(&run_base).map_err(|error| {
            CliError::Environment(format!("cannot create `{}`: {error}", run_base.display()))
        })?;
        let subject = Subject {
            run_base,
            pipeline_dir: loaded.dir.clone(),
            secrets_dir: home.join(folder),
            workspaces: Workspaces::PerJob {
                checkouts: checkouts.clone(),
                set: index.to_string(),
            },
            commit: Some(commit.clone()),
            label: home.join(&file),
            loaded,
        };
        let code = run_pipeline(args, invocation, subject).await?;
        worst = worst.max(code);
        if code == CliError::INTERRUPTED {
            break;
        }
    }
    match Arc::try_unwrap(checkouts) {
        Ok(checkouts) if args.keep_workspace => {
            err_println!("checkouts kept in {}", checkouts.keep().display());
        }
        _ => {}
    }
    Ok(worst)
}

fn announce(commit: &CommitInfo, shown: &str, checkouts: &Checkouts, took: Duration) {
    let mut about: Vec<String> = Vec::new();
    if !commit.sha.starts_with(shown) {
        about.push(shown.to_string());
    }
    if let Some(branch) = &commit.branch {
        about.push(format!("branch {branch}"));
    }
    err_println!(
        "==> testing {}{} in clean checkouts: {} files exported in {} ms",
        commit.sha.get(..12).unwrap_or(&commit.sha),
        if about.is_empty() {
            String::new()
        } else {
            format!(" ({})", about.join(", "))
        },
        checkouts.files,
        took.as_millis()
    );
}

/// A commit that could not be planned, as the command line says it.
fn planning(error: CommitPlanError) -> CliError {
    match error {
        CommitPlanError::Git(error) => environment(error),
        error @ CommitPlanError::NoDefaultFile { .. } => {
            CliError::InvalidInput(format!("{error}; name one with -f FILE"))
        }
        error @ CommitPlanError::NotAFile { .. } => CliError::InvalidInput(error.to_string()),
    }
}

/// `path` (relative to `cwd`) as a path inside the repository. In a bare repository a
/// relative path is the commit's own.
fn in_repository(repo: &SourceRepo, path: &Path, cwd: &Path) -> Result<PathBuf, CliError> {
    let outside = || {
        CliError::InvalidInput(format!(
            "`{}` is outside the repository at `{}`",
            path.display(),
            repo.workdir().unwrap_or(repo.git_dir()).display()
        ))
    };
    let Some(root) = repo.workdir() else {
        let inside = normalized(path);
        return match inside.is_relative() && !inside.starts_with("..") {
            true => Ok(inside),
            false => Err(outside()),
        };
    };
    let absolute = normalized(&cwd.join(path));
    // Symbolic links on the way (`/tmp` -> `/private/tmp`, a linked checkout) are resolved
    // on both sides before comparing.
    let resolve = |p: &Path| -> PathBuf {
        match (p.parent(), p.file_name()) {
            (Some(parent), Some(name)) => std::fs::canonicalize(parent)
                .map(|parent| parent.join(name))
                .unwrap_or_else(|_| p.to_path_buf()),
            _ => std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()),
        }
    };
    let root_resolved = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    [
        (absolute.clone(), root.to_path_buf()),
        (resolve(&absolute), root_resolved),
    ]
    .iter()
    .find_map(|(path, root)| path.strip_prefix(root).ok().map(Path::to_path_buf))
    .ok_or_else(outside)
}
