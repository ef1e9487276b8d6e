//! `pipekit-ci hook install|uninstall` and the hooks at work in real repositories: a push
//! to a local bare remote, a commit, and a bare repository receiving a push.

use crate::common::{GitSandbox, RunJson, RunStatus};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const PASSING: &str = "services:\n  check:\n    command: \"true\"\n";
const FAILING: &str = "services:\n  check:\n    command: exit 1\n";
const ZERO: &str = "0000000000000000000000000000000000000000";

/// A pipeline whose one job passes and leaves `marker` behind (an absolute path), so a
/// test can tell that it ran.
fn passing_with_marker(marker: &Path) -> String {
    format!(
        "services:\n  check:\n    command: touch '{}'\n",
        marker.display()
    )
}

/// A hook of the user's own: it appends its arguments and its input to `log`, then exits
/// with `code`.
fn custom_hook(log: &Path, code: i32) -> String {
    format!(
        "#!/bin/sh\n# the user's own hook\n{{ echo \"args: $*\"; cat; }} >> '{}'\nexit {code}\n",
        log.display()
    )
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

fn write_executable(path: &Path, contents: &str, mode: u32) {
    std::fs::create_dir_all(path.parent().expect("a hook has a folder")).expect("mkdir");
    std::fs::write(path, contents).expect("write the hook");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// A work repository with one commit of `pipeline` and an empty bare `origin` next to it.
fn work_and_origin(sandbox: &GitSandbox, pipeline: &str) -> (PathBuf, PathBuf) {
    let origin = sandbox.init_bare("origin.git");
    let work = sandbox.clone_of(&origin, "work");
    sandbox.write(&work, ".gitignore", ".pipekit/\n");
    sandbox.commit_file(&work, "pipekit.yml", pipeline, "first");
    (work, origin)
}

/// The run folders `pipekit-ci` left in a bare repository, oldest first.
fn run_dirs(git_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(git_dir.join(".pipekit/runs")) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    dirs.sort();
    dirs
}

#[test]
fn install_over_an_existing_hook_keeps_it_running_first_and_uninstall_restores_it() {
    let sandbox = GitSandbox::new();
    let (work, _origin) = work_and_origin(&sandbox, PASSING);
    let hook = work.join(".git/hooks/pre-push");
    let backup = work.join(".git/hooks/pre-push.pipekit-backup");
    let log = sandbox.path().join("custom-hook.log");
    let original = custom_hook(&log, 0);
    write_executable(&hook, &original, 0o750);
    std::fs::create_dir(work.join("src")).expect("mkdir");

    // From a subdirectory, as anywhere inside the repository.
    let installed = sandbox.pipekit(&work.join("src"), &["hook", "install"]);

    installed.assert_code(0);
    installed.assert_stderr_contains(&["pre-push", "pre-push.pipekit-backup"]);
    assert_eq!(read(&backup), original, "the backup differs from the hook");
    assert_eq!(mode(&backup), 0o750, "the backup lost its mode");
    let ours = read(&hook);
    assert!(ours.contains("# installed by pipekit-ci"), "{ours}");
    assert_eq!(mode(&hook), 0o755);

    let again = sandbox.pipekit(&work, &["hook", "install", "--hook", "pre-push"]);
    again.assert_code(0);
    again.assert_stderr_contains(&["installed already", "nothing to do"]);
    assert_eq!(read(&hook), ours, "a second install changed the hook");
    assert_eq!(
        read(&backup),
        original,
        "a second install changed the backup"
    );

    // Git runs ours, which runs the user's hook with git's arguments and input. A
    // deletion is all it is told about, so no pipeline runs.
    let input = sandbox.path().join("push-input");
    std::fs::write(
        &input,
        format!("(delete) {ZERO} refs/heads/gone {}\n", "1".repeat(40)),
    )
    .expect("write");
    let to_stdin = format!("--to-stdin={}", input.display());
    let ran = sandbox.git(
        &work,
        &[
            "hook",
            "run",
            &to_stdin,
            "pre-push",
            "--",
            "origin",
            "/srv/origin.git",
        ],
    );
    ran.assert_code(0);
    assert_eq!(
        read(&log),
        format!(
            "args: origin /srv/origin.git\n(delete) {ZERO} refs/heads/gone {}\n",
            "1".repeat(40)
        )
    );

    let removed = sandbox.pipekit(&work, &["hook", "uninstall"]);
    removed.assert_code(0);
    removed.assert_stderr_contains(&["put back"]);
    assert_eq!(read(&hook), original, "uninstall did not restore the hook");
    assert_eq!(mode(&hook), 0o750, "the restored hook lost its mode");
    assert!(!backup.exists(), "the backup is still there");

    let nothing = sandbox.pipekit(&work, &["hook", "uninstall"]);
    nothing.assert_code(0);
    nothing.assert_stderr_contains(&["not pipekit-ci's", "left it alone"]);
    assert_eq!(read(&hook), original);
}

#[test]
fn a_failing_replaced_hook_blocks_the_push_before_any_pipeline_runs() {
    let sandbox = GitSandbox::new();
    let marker = sandbox.path().join("pipeline-ran");
    let (work, origin) = work_and_origin(&sandbox, &passing_with_marker(&marker));
    let log = sandbox.path().join("custom-hook.log");
    write_executable(
        &work.join(".git/hooks/pre-push"),
        &custom_hook(&log, 7),
        0o755,
    );
    sandbox.pipekit(&work, &["hook", "install"]).assert_code(0);

    let push = sandbox.git(&work, &["push", "origin", "main"]);

    push.assert_failed();
    push.assert_stderr_contains(&["exit 7", "push is blocked", "git push --no-verify"]);
    assert!(read(&log).contains("refs/heads/main"), "{}", read(&log));
    assert!(
        !marker.exists(),
        "a pipeline ran after the user's hook failed"
    );
    assert_eq!(
        sandbox.rev_parse(&origin, "main"),
        None,
        "the push went through"
    );
}

#[test]
fn core_hooks_path_is_honoured_relative_to_the_work_tree() {
    let sandbox = GitSandbox::new();
    let (work, _origin) = work_and_origin(&sandbox, PASSING);
    sandbox
        .git(&work, &["config", "core.hooksPath", ".githooks"])
        .assert_code(0);
    let log = sandbox.path().join("custom-hook.log");
    let original = custom_hook(&log, 0);
    write_executable(&work.join(".githooks/pre-commit"), &original, 0o755);
    std::fs::create_dir(work.join("src")).expect("mkdir");

    let installed = sandbox.pipekit(
        &work.join("src"),
        &["hook", "install", "--hook", "pre-commit"],
    );

    installed.assert_code(0);
    installed.assert_stderr_contains(&["core.hooksPath", ".githooks"]);
    assert!(read(&work.join(".githooks/pre-commit")).contains("# installed by pipekit-ci"));
    assert_eq!(
        read(&work.join(".githooks/pre-commit.pipekit-backup")),
        original
    );
    assert!(!work.join(".git/hooks/pre-commit").exists());

    sandbox
        .pipekit(&work, &["hook", "uninstall", "--hook", "pre-commit"])
        .assert_code(0);
    assert_eq!(read(&work.join(".githooks/pre-commit")), original);
    assert!(!work.join(".githooks/pre-commit.pipekit-backup").exists());
}

#[test]
fn hook_commands_outside_a_repository_or_with_an_unwritable_hooks_directory_are_environment_errors()
{
    let sandbox = GitSandbox::new();
    let outside = sandbox.path().join("not-a-repository");
    std::fs::create_dir(&outside).expect("mkdir");
    let finished = sandbox.pipekit(&outside, &["hook", "install"]);
    finished.assert_code(3);
    finished.assert_stderr_contains(&["not in a git repository"]);

    let (work, _origin) = work_and_origin(&sandbox, PASSING);
    // A file where a folder should be: unwritable even for root.
    sandbox.write(&work, "blocker", "a file\n");
    sandbox
        .git(&work, &["config", "core.hooksPath", "blocker/hooks"])
        .assert_code(0);
    let finished = sandbox.pipekit(&work, &["hook", "install"]);
    finished.assert_code(3);
    finished.assert_stderr_contains(&["hooks directory", "blocker/hooks"]);
}

#[test]
fn hook_run_is_not_in_the_help() {
    let sandbox = GitSandbox::new();
    let help = sandbox.pipekit(sandbox.path(), &["hook", "--help"]);
    help.assert_code(0);
    let listed = |name: &str| {
        help.stdout
            .lines()
            .any(|line| line.trim_start().starts_with(&format!("{name} ")))
    };
    assert!(listed("install") && listed("uninstall"), "{}", help.stdout);
    assert!(!listed("run"), "{}", help.stdout);
}

#[test]
fn push_is_blocked_by_a_failing_pipeline_and_goes_through_once_fixed() {
    let sandbox = GitSandbox::new();
    let (work, origin) = work_and_origin(&sandbox, FAILING);
    sandbox.pipekit(&work, &["hook", "install"]).assert_code(0);

    let blocked = sandbox.git(&work, &["push", "origin", "main"]);

    blocked.assert_failed();
    blocked.assert_stderr_contains(&[
        "pipekit-ci: pre-push: testing refs/heads/main at",
        "push is blocked",
        "git push --no-verify",
    ]);
    assert_eq!(
        sandbox.rev_parse(&origin, "main"),
        None,
        "the push went through"
    );

    // The commit is what runs: a broken pipeline left in the working tree plays no part.
    let marker = sandbox.path().join("fixed-pipeline-ran");
    let fixed = sandbox.commit_file(&work, "pipekit.yml", &passing_with_marker(&marker), "fix");
    sandbox.write(&work, "pipekit.yml", FAILING);

    let allowed = sandbox.git(&work, &["push", "origin", "main"]);

    allowed.assert_code(0);
    assert!(
        marker.exists(),
        "the pipeline did not run:\n{}",
        allowed.stderr
    );
    assert_eq!(sandbox.rev_parse(&origin, "main"), Some(fixed));

    sandbox
        .git(&work, &["checkout", "--", "pipekit.yml"])
        .assert_code(0);
    let broken = sandbox.commit_file(&work, "pipekit.yml", FAILING, "break it again");
    let blocked_again = sandbox.git(&work, &["push", "origin", "main"]);
    blocked_again.assert_failed();
    let bypassed = sandbox.git(&work, &["push", "--no-verify", "origin", "main"]);
    bypassed.assert_code(0);
    assert_eq!(sandbox.rev_parse(&origin, "main"), Some(broken));
}

#[test]
fn pushing_runs_the_replaced_hook_and_the_pipelines() {
    let sandbox = GitSandbox::new();
    let marker = sandbox.path().join("pipeline-ran");
    let (work, origin) = work_and_origin(&sandbox, &passing_with_marker(&marker));
    let log = sandbox.path().join("custom-hook.log");
    write_executable(
        &work.join(".git/hooks/pre-push"),
        &custom_hook(&log, 0),
        0o755,
    );
    sandbox.pipekit(&work, &["hook", "install"]).assert_code(0);
    let head = sandbox.rev_parse(&work, "HEAD").expect("a commit");

    let push = sandbox.git(&work, &["push", "origin", "main"]);

    push.assert_code(0);
    let origin_url = origin.display().to_string();
    assert_eq!(
        read(&log),
        format!("args: origin {origin_url}\nrefs/heads/main {head} refs/heads/main {ZERO}\n")
    );
    assert!(
        marker.exists(),
        "the pipeline did not run:\n{}",
        push.stderr
    );
    assert_eq!(sandbox.rev_parse(&origin, "main"), Some(head));
}

#[test]
fn pre_commit_tests_the_staged_tree_not_the_working_tree() {
    let sandbox = GitSandbox::new();
    let (work, _origin) = work_and_origin(&sandbox, PASSING);
    sandbox
        .pipekit(&work, &["hook", "install", "--hook", "pre-commit"])
        .assert_code(0);
    let first = sandbox.rev_parse(&work, "HEAD");

    // Staged: broken. Working tree: fixed, but not staged.
    sandbox.write(&work, "pipekit.yml", FAILING);
    sandbox.git(&work, &["add", "pipekit.yml"]).assert_code(0);
    sandbox.write(&work, "pipekit.yml", PASSING);
    let blocked = sandbox.git(&work, &["commit", "-m", "broken"]);
    blocked.assert_failed();
    blocked.assert_stderr_contains(&["commit is blocked", "git commit --no-verify"]);
    assert_eq!(
        sandbox.rev_parse(&work, "HEAD"),
        first,
        "the commit went through"
    );

    // Staged: fixed. Working tree: broken, but not staged.
    let marker = sandbox.path().join("staged-pipeline-ran");
    sandbox.write(&work, "pipekit.yml", &passing_with_marker(&marker));
    sandbox.git(&work, &["add", "pipekit.yml"]).assert_code(0);
    sandbox.write(&work, "pipekit.yml", FAILING);
    sandbox
        .git(&work, &["commit", "-m", "fixed"])
        .assert_code(0);
    assert!(marker.exists(), "the staged pipeline did not run");

    // `commit -a` stages into a temporary index; that is what gets tested.
    let blocked = sandbox.git(&work, &["commit", "-a", "-m", "broken again"]);
    blocked.assert_failed();
    sandbox
        .git(&work, &["commit", "-a", "--no-verify", "-m", "anyway"])
        .assert_code(0);
}

#[test]
fn post_receive_runs_the_pipelines_of_pushed_refs_in_the_bare_repository() {
    let sandbox = GitSandbox::new();
    let origin = sandbox.init_bare("origin.git");
    sandbox
        .pipekit(&origin, &["hook", "install", "--hook", "post-receive"])
        .assert_code(0);
    assert!(read(&origin.join("hooks/post-receive")).contains("# installed by pipekit-ci"));
    let work = sandbox.clone_of(&origin, "work");
    let first = sandbox.commit_file(
        &work,
        "pipekit.yml",
        "services:\n  check:\n    command: echo pushed > \"$PIPEKIT_SHARED/marker\"\n",
        "first",
    );

    let push = sandbox.git(&work, &["push", "origin", "main"]);

    push.assert_code(0);
    push.assert_stderr_contains(&["remote: pipekit-ci: post-receive: testing refs/heads/main at"]);
    let runs = run_dirs(&origin);
    assert_eq!(runs.len(), 1, "run folders: {runs:?}\n{}", push.stderr);
    assert_eq!(read(&runs[0].join("shared/marker")), "pushed\n");
    let run = RunJson::read(&runs[0]);
    assert_eq!(run.status, RunStatus::Passed, "{run:#?}");
    assert_eq!(
        run.commit.as_ref().map(|commit| commit.sha.as_str()),
        Some(first.as_str())
    );

    // Post-receive cannot stop a push; the pusher still sees the failure.
    let broken = sandbox.commit_file(&work, "pipekit.yml", FAILING, "break it");
    let push = sandbox.git(&work, &["push", "origin", "main"]);

    push.assert_code(0);
    assert_eq!(sandbox.rev_parse(&origin, "main"), Some(broken));
    let remote_failure = push
        .stderr
        .lines()
        .any(|line| line.starts_with("remote: ") && line.contains("failed"));
    assert!(
        remote_failure,
        "no failure in the remote's lines:\n{}",
        push.stderr
    );
    let runs = run_dirs(&origin);
    assert_eq!(runs.len(), 2, "run folders: {runs:?}");
    let statuses: Vec<RunStatus> = runs.iter().map(|dir| RunJson::read(dir).status).collect();
    assert!(statuses.contains(&RunStatus::Failed), "{statuses:?}");
}
