//! The service's upkeep, as a user configures it: which branches are tested, older runs of
//! a branch cancelled by a newer push, retention of the history, and what the queue and
//! the metrics say about jobs. The built binary with a config file, real git repositories,
//! driven over HTTP by curl.

use crate::common::{Server, binary, commit_all, git, served_repository as repository};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// A server over the repository `repo`, called `app`, with `settings` (indented lines) in
/// its entry, and `top` at the top of the config file. Nothing is polled.
fn server_of_app(repo: &Path, data: &Path, config_dir: &Path, top: &str, settings: &str) -> Server {
    let config = config_dir.join("serve.yml");
    let text = format!(
        "{top}repositories:\n  app:\n    url: {}\n    poll: 0\n{settings}",
        repo.display()
    );
    std::fs::write(&config, text).expect("write the config");
    let config = config.to_str().expect("utf-8").to_owned();
    Server::start_with(config_dir, data, &["--config", &config])
}

/// The post-receive hook's notice that `reference` moved to `after`; the ids queued.
fn pushed(server: &Server, reference: &str, after: &str) -> Vec<i64> {
    let notice = json!({"updates": [{"ref": reference, "before": "0".repeat(40), "after": after}]});
    let (status, answer) = server.call_with(
        "POST",
        "/hooks/app",
        &["X-Pipekit-Event: push", "content-type: application/json"],
        Some(notice.to_string().as_bytes()),
    );
    assert_eq!(status, 202, "{reference}: {answer}");
    answer["queued"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .filter_map(Value::as_i64)
        .collect()
}

/// A new commit on a new branch `branch` of the work tree `repo`; its sha.
fn commit_on(repo: &Path, branch: &str, file: &str) -> String {
    git(repo, &["checkout", "-q", "-B", branch]);
    std::fs::write(repo.join(file), format!("{branch}\n")).expect("write");
    commit_all(repo, &format!("On {branch}"))
}

#[test]
fn only_the_configured_branches_are_tested_but_tags_and_manual_runs_are() {
    let (repo, data) = repository("services:\n  a:\n    command: \"true\"\n");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let main = git(repo.path(), &["rev-parse", "HEAD"]);
    // Each ref on a commit of its own: a commit and pipeline are queued once, whatever ref.
    let release = commit_on(repo.path(), "release/1.0", "release");
    let nested = commit_on(repo.path(), "release/2/fix", "nested");
    let feature = commit_on(repo.path(), "feature", "feature");
    let tagged = commit_on(repo.path(), "tagged", "tagged");
    git(repo.path(), &["tag", "v1"]);
    let server = server_of_app(
        repo.path(),
        data.path(),
        config_dir.path(),
        "",
        "    branches: [main, \"release/*\"]\n",
    );

    assert_eq!(pushed(&server, "refs/heads/main", &main).len(), 1);
    assert_eq!(pushed(&server, "refs/heads/release/1.0", &release).len(), 1);
    assert_eq!(
        pushed(&server, "refs/heads/release/2/fix", &nested),
        Vec::<i64>::new()
    );
    assert_eq!(
        pushed(&server, "refs/heads/feature", &feature),
        Vec::<i64>::new()
    );
    assert_eq!(
        pushed(&server, "refs/tags/v1", &tagged).len(),
        1,
        "a tag is no branch: its pipelines' `on:` decide, as before"
    );
    let (_, listed) = server.call("GET", "/api/v1/runs", None);
    let mut refs: Vec<&str> = listed["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|run| run["ref"].as_str())
        .collect();
    refs.sort_unstable();
    assert_eq!(
        refs,
        ["refs/heads/main", "refs/heads/release/1.0", "refs/tags/v1"],
        "{listed}"
    );

    // A person asking for a branch is not filtered.
    let (status, queued) = server.call(
        "POST",
        "/api/v1/runs",
        Some(r#"{"repository": "app", "ref": "feature"}"#),
    );
    assert_eq!(status, 201, "{queued}");
    let run = server.wait_for(queued["id"].as_i64().expect("an id"), &["passed", "failed"]);
    assert_eq!(
        (run["status"].as_str(), run["branch"].as_str()),
        (Some("passed"), Some("feature"))
    );
}

#[test]
fn a_config_mistake_in_the_upkeep_keys_is_invalid_input_naming_where() {
    let (repo, _data) = repository("services:\n  a:\n    command: \"true\"\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("", "    branches: [main, \"v[0-9\"]\n", "serve.yml:5:22:"),
        ("", "    branches: []\n", "serve.yml:5:15:"),
    ];
    for (top, settings, expected) in cases {
        let config = dir.path().join("serve.yml");
        std::fs::write(
            &config,
            format!(
                "{top}repositories:\n  app:\n    url: {}\n    poll: 0\n{settings}",
                repo.path().display()
            ),
        )
        .expect("write");
        let finished = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(dir.path().join("data"))
            .current_dir(dir.path())
            .output()
            .expect("pipekit-ci runs");
        let stderr = String::from_utf8_lossy(&finished.stderr);
        assert_eq!(finished.status.code(), Some(2), "{settings}: {stderr}");
        assert!(stderr.contains(expected), "{settings}: {stderr}");
    }
}
