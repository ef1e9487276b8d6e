//! `pipekit-ci hook install|uninstall|run`: the git hooks and what they do when git calls
//! them.

use super::args::{HookArgs, HookCommand, HookRunArgs};
use super::error::CliError;
use crate::git::repository_name;
use crate::hooks::{
    Change, ChildSupervisor, HookError, HookKind, HookRepository, HookScript, HooksDirectory,
    Installation, PlannedRun, RefUpdate, ServerUrl, Uninstallation, backup_path, install_script,
    tell_server, uninstall,
};
use std::ffi::OsString;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

pub fn hook(command: HookCommand) -> Result<u8, CliError> {
    match command {
        HookCommand::Install(args) => install_hook(args),
        HookCommand::Uninstall(args) => uninstall_hook(args),
        HookCommand::Run(args) => run_hook(args),
    }
}

fn install_hook(args: HookArgs) -> Result<u8, CliError> {
    let kind = args.hook;
    if let Some(server) = &args.server {
        if kind != HookKind::PostReceive {
            return Err(CliError::InvalidInput(format!(
                "--server is for --hook post-receive, which tells the server of each push; \
                 {kind} runs the pipelines here"
            )));
        }
        ServerUrl::parse(server).map_err(|error| CliError::InvalidInput(error.to_string()))?;
    }
    let repository = HookRepository::open().map_err(cli_error)?;
    let hooks = repository.hooks_directory().map_err(cli_error)?;
    let executable = current_executable()?;
    let script = HookScript {
        kind,
        executable: &executable,
        server: args.server.as_deref(),
    };
    let installation = install_script(&hooks.path, &script).map_err(cli_error)?;
    err_println!("{}", describe_installation(kind, &hooks, &installation));
    match (kind.is_server_side(), repository.is_bare()) {
        (true, false) => err_println!(
            "note: this repository has a work tree; post-receive runs when others push into it"
        ),
        (false, true) => {
            err_println!(
                "note: git never runs {kind} in a bare repository (nobody commits or pushes from it)"
            )
        }
        _ => {}
    }
    Ok(0)
}

fn describe_installation(kind: HookKind, hooks: &HooksDirectory, done: &Installation) -> String {
    let hook = done.hook.display();
    let from = if hooks.configured {
        " (core.hooksPath)"
    } else {
        ""
    };
    let mut lines = vec![match done.change {
        Change::Written => format!("installed the {kind} hook at {hook}{from}"),
        Change::Rewritten => {
            format!("updated the {kind} hook at {hook}{from} to run this pipekit-ci")
        }
        Change::Unchanged => {
            format!("the {kind} hook at {hook}{from} is installed already; nothing to do")
        }
    }];
    if let Some(backup) = &done.backup {
        let backup = backup.display();
        lines.push(if done.moved_now {
            format!("the hook that was there is kept as {backup} and runs first")
        } else {
            format!("the hook it replaced, kept as {backup}, runs first")
        });
    }
    if done.change != Change::Unchanged {
        lines.push(match kind.bypass() {
            Some(bypass) => {
                format!("`{bypass}` skips it; `pipekit-ci hook uninstall --hook {kind}` removes it")
            }
            None => format!("`pipekit-ci hook uninstall --hook {kind}` removes it"),
        });
    }
    lines.join("\n")
}

fn uninstall_hook(args: HookArgs) -> Result<u8, CliError> {
    let kind = args.hook;
    let repository = HookRepository::open().map_err(cli_error)?;
    let hooks = repository.hooks_directory().map_err(cli_error)?;
    let hook = hooks.path.join(kind.file_name());
    let message = match uninstall(&hooks.path, kind).map_err(cli_error)? {
        Uninstallation::Removed { restored: None } => {
            format!("removed the {kind} hook at {}", hook.display())
        }
        Uninstallation::Removed {
            restored: Some(restored),
        } => format!(
            "removed the {kind} hook and put back the one it replaced at {}",
            restored.display()
        ),
        Uninstallation::Restored { hook } => format!(
            "pipekit-ci's {kind} hook was gone already; put back the one it replaced at {}",
            hook.display()
        ),
        Uninstallation::NotOurs { backup } => {
            let mut message = format!(
                "the {kind} hook at {} is not pipekit-ci's; left it alone",
                hook.display()
            );
            if let Some(backup) = backup {
                message.push_str(&format!(" (and {})", backup.display()));
            }
            message
        }
        Uninstallation::NothingInstalled => format!(
            "no pipekit-ci {kind} hook in {}; nothing to do",
            hooks.path.display()
        ),
    };
    err_println!("{message}");
    Ok(0)
}

/// What the installed hook execs: the replaced hook first, then one `pipekit-ci run` per
/// pushed ref (or for the staged changes).
fn run_hook(args: HookRunArgs) -> Result<u8, CliError> {
    let kind = args.kind;
    let repository = HookRepository::open().map_err(cli_error)?;
    let input = match kind.reads_ref_updates() {
        true => Some(read_stdin()?),
        false => None,
    };
    let mut supervisor = ChildSupervisor::new()
        .map_err(|error| CliError::Environment(format!("cannot start the runtime: {error}")))?;

    let hooks = repository.hooks_directory().map_err(cli_error)?;
    let backup = backup_path(&hooks.path.join(kind.file_name()));
    let backup_failed =
        match run_backup(&mut supervisor, &backup, &args.arguments, input.as_deref())? {
            Some(status) if !status.success() => {
                say(&format!(
                    "the {kind} hook pipekit-ci replaced ({}) {}",
                    backup.display(),
                    ended(status.code())
                ));
                if kind.can_block() {
                    return Ok(blocked(kind));
                }
                true
            }
            _ => false,
        };

    if let Some(server) = &args.server {
        return tell(server, &repository, input.as_deref());
    }
    let (runs, index_file) = plan(kind, &repository, input)?;
    let executable = current_executable()?;
    let mut failed: Vec<String> = Vec::new();
    for planned in &runs {
        say(&format!("{kind}: testing {}", planned.subject));
        let mut command = Command::new(&executable);
        command.args(&planned.arguments).stdin(Stdio::null());
        repository.prepare(&mut command, index_file.as_deref());
        let status = supervisor.run(command, None).map_err(|error| {
            CliError::Environment(format!("cannot start {}: {error}", executable.display()))
        })?;
        match status.code() {
            Some(0) => {}
            Some(code) if code == i32::from(CliError::INTERRUPTED) => {
                say(&format!(
                    "{kind}: interrupted while testing {}",
                    planned.subject
                ));
                return Ok(CliError::INTERRUPTED);
            }
            code => {
                say(&format!(
                    "the pipelines of {} {}",
                    planned.subject,
                    ended(code)
                ));
                failed.push(planned.subject.clone());
                // The push or commit is stopped either way: the first failure says enough.
                if kind.can_block() {
                    return Ok(blocked(kind));
                }
            }
        }
    }
    if failed.is_empty() && !backup_failed {
        return Ok(0);
    }
    if !failed.is_empty() {
        say(&format!(
            "{kind}: failed: {} (the push went through; post-receive cannot undo it)",
            failed.join(", ")
        ));
    }
    Ok(CliError::FAILED)
}

/// `post-receive --server`: tells the server of the push; it queues the runs. A server that
/// cannot be told fails the hook (the push went through; git shows the pusher why).
fn tell(server: &str, repository: &HookRepository, input: Option<&[u8]>) -> Result<u8, CliError> {
    let url =
        ServerUrl::parse(server).map_err(|error| CliError::InvalidInput(error.to_string()))?;
    let text = String::from_utf8_lossy(input.unwrap_or_default());
    let updates = RefUpdate::parse_post_receive(&text).map_err(cli_error)?;
    let name = repository_name(repository.hook_directory());
    match tell_server(&url, &name, &updates) {
        Ok(answer) => {
            say(&format!("post-receive: told {server}: {answer}"));
            Ok(0)
        }
        Err(error) => {
            say(&format!(
                "post-receive: {error}; nothing was queued for this push"
            ));
            Ok(CliError::FAILED)
        }
    }
}

/// The runs the hook starts, and the index a `--staged` run must read when git staged
/// into a temporary one (`git commit -a`).
fn plan(
    kind: HookKind,
    repository: &HookRepository,
    input: Option<Vec<u8>>,
) -> Result<(Vec<PlannedRun>, Option<PathBuf>), CliError> {
    let input = String::from_utf8_lossy(&input.unwrap_or_default()).into_owned();
    Ok(match kind {
        HookKind::PreCommit => (
            vec![PlannedRun::staged(repository.current_branch().as_deref())],
            repository.special_index_file(std::env::var_os("GIT_INDEX_FILE")),
        ),
        HookKind::PrePush => {
            let updates = RefUpdate::parse_pre_push(&input).map_err(cli_error)?;
            (push_runs(repository, updates), None)
        }
        HookKind::PostReceive => {
            let updates = RefUpdate::parse_post_receive(&input).map_err(cli_error)?;
            (push_runs(repository, updates), None)
        }
    })
}

/// One run per pushed ref that still exists after the push.
fn push_runs(repository: &HookRepository, updates: Vec<RefUpdate>) -> Vec<PlannedRun> {
    let mut runs = Vec::new();
    for update in updates {
        if update.is_deletion() {
            continue;
        }
        let commit = match repository.commit_of(&update.after) {
            Ok(Some(commit)) => commit,
            Ok(None) => {
                say(&format!(
                    "skipping {}: {} is not a commit",
                    update.reference, update.after
                ));
                continue;
            }
            // `run` says what is wrong with it, and fails.
            Err(_) => update.after.clone(),
        };
        // Without the old commit here (someone else pushed it; a forced push), the run
        // treats the ref as new rather than failing on an unknown revision.
        let before = (!update.is_creation() && repository.contains(&update.before))
            .then_some(update.before.as_str());
        runs.push(PlannedRun::push(&update.reference, &commit, before));
    }
    runs
}

/// Runs the hook pipekit-ci replaced, as git would have: same arguments, same input, in
/// git's directory and environment. `None` when there is none, or it is not executable
/// (git skips such a hook too).
fn run_backup(
    supervisor: &mut ChildSupervisor,
    backup: &Path,
    arguments: &[OsString],
    input: Option<&[u8]>,
) -> Result<Option<ExitStatus>, CliError> {
    let Ok(metadata) = std::fs::metadata(backup) else {
        return Ok(None);
    };
    if !metadata.is_file() || metadata.permissions().mode() & 0o111 == 0 {
        say(&format!(
            "skipping {}: it is not an executable file (git would skip it too)",
            backup.display()
        ));
        return Ok(None);
    }
    let mut command = Command::new(backup);
    command.args(arguments);
    if input.is_none() {
        command.stdin(Stdio::null());
    }
    supervisor
        .run(command, input)
        .map(Some)
        .map_err(|error| CliError::Environment(format!("cannot run {}: {error}", backup.display())))
}

fn blocked(kind: HookKind) -> u8 {
    let bypass = kind
        .bypass()
        .map(|bypass| format!("; fix it, or go ahead without the check: {bypass}"))
        .unwrap_or_default();
    say(&format!("{kind}: the {} is blocked{bypass}", kind.blocks()));
    CliError::FAILED
}

fn ended(code: Option<i32>) -> String {
    match code {
        Some(1) => "failed".into(),
        Some(2) => "could not run: invalid pipeline file or flags (exit 2)".into(),
        Some(3) => "could not run: environment error (exit 3)".into(),
        Some(code) => format!("failed (exit {code})"),
        None => "was killed by a signal".into(),
    }
}

/// The hook's own lines stand out among git's and the runs' output.
fn say(message: &str) {
    err_println!("pipekit-ci: {message}");
}

fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|error| CliError::Environment(format!("cannot read the hook's input: {error}")))?;
    Ok(input)
}

/// The binary the hook execs: this one, by a path that stays valid from any directory.
fn current_executable() -> Result<PathBuf, CliError> {
    std::env::current_exe()
        .and_then(|path| path.canonicalize())
        .map_err(|error| cli_error(HookError::CurrentExecutable(error)))
}

fn cli_error(error: HookError) -> CliError {
    match error {
        HookError::MalformedLine { .. } => CliError::InvalidInput(error.to_string()),
        _ => CliError::Environment(error.to_string()),
    }
}
