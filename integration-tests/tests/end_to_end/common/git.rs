//! Real git repositories for the tests, made with the `git` command.

use std::path::Path;
use std::process::Command;

/// Runs `git` in `dir`, failing the test with git's own words; its trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// `git init` on branch `main`, then commits everything in `dir`; the commit's sha.
pub fn init_and_commit(dir: &Path, message: &str) -> String {
    git(dir, &["init", "-q", "-b", "main"]);
    commit_all(dir, message)
}

/// Stages everything in `dir` and commits it; the commit's sha.
pub fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}
