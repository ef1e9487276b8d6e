//! The service's upkeep, as a user configures it: which branches are tested, older runs of
//! a branch cancelled by a newer push, retention of the history, and what the queue and
//! the metrics say about jobs. The built binary with a config file, real git repositories,
//! driven over HTTP by curl.

use crate::common::{
    Server, binary, commit_all, eventually, git, processes_with, served_repository as repository,
};
use nix::sys::signal::Signal;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

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

/// A pipeline whose job sleeps (its command line holds `marker`) unless the commit has a
/// file `fast`.
fn slow_unless_fast(marker: &str) -> String {
    format!("services:\n  slow:\n    command: test -e fast || {{ sleep 300; echo {marker}; }}\n")
}

#[test]
fn a_newer_push_to_a_branch_cancels_its_older_run_and_leaves_other_branches_alone() {
    let main_marker = format!("pipekit-superseded-main-{}", std::process::id());
    let other_marker = format!("pipekit-superseded-other-{}", std::process::id());
    let (repo, data) = repository(&slow_unless_fast(&main_marker));
    let config_dir = tempfile::tempdir().expect("tempdir");
    let first = git(repo.path(), &["rev-parse", "HEAD"]);
    git(repo.path(), &["checkout", "-q", "-b", "other"]);
    std::fs::write(
        repo.path().join("pipekit.yml"),
        slow_unless_fast(&other_marker),
    )
    .expect("write");
    let other = commit_all(repo.path(), "Other");
    git(repo.path(), &["checkout", "-q", "main"]);
    std::fs::write(repo.path().join("fast"), "").expect("write");
    let second = commit_all(repo.path(), "Fast now");
    let server = server_of_app(
        repo.path(),
        data.path(),
        config_dir.path(),
        "max_runs: 3\n",
        "    cancel_superseded: true\n",
    );

    let [older] = pushed(&server, "refs/heads/main", &first)[..] else {
        panic!("one run for the first push");
    };
    let [elsewhere] = pushed(&server, "refs/heads/other", &other)[..] else {
        panic!("one run for the other branch");
    };
    for (id, marker) in [(older, &main_marker), (elsewhere, &other_marker)] {
        server.wait_for(id, &["running"]);
        assert!(
            eventually(Duration::from_secs(10), || !processes_with(marker)
                .is_empty()),
            "run {id}'s job never started"
        );
    }

    let [newer] = pushed(&server, "refs/heads/main", &second)[..] else {
        panic!("one run for the second push");
    };
    let cancelled = server.wait_for(older, &["cancelled", "passed", "failed", "errored"]);
    assert_eq!(cancelled["status"], "cancelled", "{cancelled}");
    assert!(
        cancelled["problem"]
            .as_str()
            .is_some_and(|why| why.starts_with("superseded by run #3")),
        "{cancelled}"
    );
    assert!(
        eventually(Duration::from_secs(10), || processes_with(&main_marker)
            .is_empty()),
        "the superseded run's job is left"
    );
    let ran = server.wait_for(newer, &["passed", "failed", "cancelled", "errored"]);
    assert_eq!(ran["status"], "passed", "{ran}");
    assert_eq!(
        server.run(elsewhere)["status"],
        "running",
        "another branch's run goes on"
    );
    assert!(!processes_with(&other_marker).is_empty());

    // A push of the same commit again queues nothing, so it cancels nothing either.
    assert_eq!(
        pushed(&server, "refs/heads/other", &other),
        Vec::<i64>::new()
    );
    assert_eq!(server.run(elsewhere)["status"], "running");
    assert_eq!(server.stop(Signal::SIGTERM), Some(0));
    assert!(
        eventually(Duration::from_secs(10), || processes_with(&other_marker)
            .is_empty()),
        "the stopped server's job is left"
    );
}

/// Queues a run of `main` by hand and waits for its end; its id and status.
fn ran_main(server: &Server) -> (i64, String) {
    let (status, queued) = server.call(
        "POST",
        "/api/v1/runs",
        Some(r#"{"repository": "app", "ref": "main"}"#),
    );
    assert_eq!(status, 201, "{queued}");
    let id = queued["id"].as_i64().expect("an id");
    let run = server.wait_for(id, &["passed", "failed", "errored", "invalid", "cancelled"]);
    (id, run["status"].as_str().unwrap_or_default().to_owned())
}

/// The ids the server lists, oldest first.
fn listed_ids(server: &Server) -> Vec<i64> {
    let (_, listed) = server.call("GET", "/api/v1/runs", None);
    let mut ids: Vec<i64> = listed["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .filter_map(|run| run["id"].as_i64())
        .collect();
    ids.reverse();
    ids
}

/// The run folders on disk, sorted.
fn folders_of(data: &Path) -> Vec<String> {
    let mut folders: Vec<String> = std::fs::read_dir(data.join("runs/app"))
        .expect("the runs folder")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    folders
}

#[test]
fn the_history_beyond_keep_goes_rows_and_folders_but_the_last_passed_run_stays() {
    let (repo, data) = repository("services:\n  check:\n    command: test ! -e broken\n");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let server = server_of_app(
        repo.path(),
        data.path(),
        config_dir.path(),
        "max_runs: 1\nkeep: {runs: 2}\n",
        "",
    );
    let (passed, status) = ran_main(&server);
    assert_eq!(status, "passed");
    std::fs::write(repo.path().join("broken"), "").expect("write");
    commit_all(repo.path(), "Broken");
    let mut runs = vec![(passed, server.run(passed))];
    for _ in 0..3 {
        let (id, status) = ran_main(&server);
        assert_eq!(status, "failed");
        runs.push((id, server.run(id)));
    }
    let folder = |run: &Value| run["run_folder"].as_str().expect("a folder").to_owned();
    let [first, second, third, fourth] = [0, 1, 2, 3].map(|index| runs[index].0);

    // The newest two, and the last passed run of `main` whatever its age.
    let mut pruned = Vec::new();
    assert!(
        eventually(Duration::from_secs(30), || {
            pruned = listed_ids(&server);
            pruned == [first, third, fourth]
        }),
        "{pruned:?}"
    );
    let (status, answer) = server.call("GET", &format!("/api/v1/runs/{second}"), None);
    assert_eq!(status, 404, "{answer}");
    let mut kept: Vec<String> = [0, 2, 3]
        .iter()
        .map(|&index| folder(&runs[index].1))
        .collect();
    kept.sort();
    assert_eq!(
        folders_of(data.path()),
        kept,
        "the deleted run's folder is gone"
    );
    assert_eq!(server.stop(Signal::SIGTERM), Some(0));

    // A smaller bound is applied as the server starts, before any run.
    let server = server_of_app(
        repo.path(),
        data.path(),
        config_dir.path(),
        "keep: {runs: 1}\n",
        "",
    );
    assert!(
        eventually(Duration::from_secs(30), || listed_ids(&server)
            == [first, fourth]),
        "{:?}",
        listed_ids(&server)
    );
    let (status, _) = server.call("GET", &format!("/api/v1/runs/{third}"), None);
    assert_eq!(status, 404);
    let mut kept = vec![folder(&runs[0].1), folder(&runs[3].1)];
    kept.sort();
    assert!(
        eventually(Duration::from_secs(10), || folders_of(data.path()) == kept),
        "{:?}",
        folders_of(data.path())
    );
}

#[test]
fn the_queue_says_what_each_waiting_job_waits_on_and_the_metrics_time_the_jobs() {
    let marker = format!("pipekit-queue-jobs-{}", std::process::id());
    let (repo, data) = repository(&format!(
        "services:\n  db:\n    command: sleep 300; echo {marker}\n    signals:\n      ready: Grep(stdout, \"never printed\")\n  test:\n    depends_on:\n      - db.ready\n    command: \"true\"\n  quick:\n    command: \"true\"\n"
    ));
    let config_dir = tempfile::tempdir().expect("tempdir");
    let server = server_of_app(repo.path(), data.path(), config_dir.path(), "", "");
    let (_, queued) = server.call(
        "POST",
        "/api/v1/runs",
        Some(r#"{"repository": "app", "ref": "main"}"#),
    );
    let id = queued["id"].as_i64().expect("an id");
    server.wait_for(id, &["running"]);
    let mut queue = Value::Null;
    let listed = eventually(Duration::from_secs(20), || {
        queue = server.call("GET", "/api/v1/queue", None).1;
        queue["jobs"].as_array().is_some_and(|jobs| {
            jobs.iter()
                .any(|job| job["waiting_on"] == json!(["db.ready"]))
        })
    });
    assert!(listed, "{queue}");
    assert_eq!(
        queue["jobs"],
        json!([{"run": id, "job": "test", "waiting_on": ["db.ready"], "reason": "waiting on db.ready"}]),
        "only the job that waits"
    );
    // The page says the same.
    let (status, page) = server.call("GET", "/queue", None);
    assert_eq!(status, 200);
    assert!(
        page.as_str().is_some_and(|page| page.contains("db.ready")),
        "{page}"
    );

    let metrics = || {
        let output = Command::new("curl")
            .arg("-s")
            .arg(format!("{}/metrics", server.url))
            .output()
            .expect("curl runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    assert!(
        !metrics().contains("pipekit_job_duration_seconds_count"),
        "nothing counted before a run ends"
    );
    server.call("POST", &format!("/api/v1/runs/{id}/cancel"), None);
    server.wait_for(id, &["cancelled"]);
    let mut text = String::new();
    let counted = eventually(Duration::from_secs(10), || {
        text = metrics();
        text.contains("pipekit_job_duration_seconds_count{state=\"passed\"} 1")
    });
    assert!(counted, "{text}");
    assert!(
        text.contains("# TYPE pipekit_job_duration_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("pipekit_job_duration_seconds_bucket{state=\"passed\",le=\"1\"} 1"),
        "{text}"
    );
    // The stopped database job: cancelled after running; the job that never ran is not timed.
    assert!(
        text.contains("pipekit_job_duration_seconds_count{state=\"cancelled\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("pipekit_job_duration_seconds_bucket{state=\"cancelled\",le=\"+Inf\"} 1")
    );
    assert!(eventually(Duration::from_secs(10), || processes_with(
        &marker
    )
    .is_empty()));
}

#[test]
fn a_config_mistake_in_the_upkeep_keys_is_invalid_input_naming_where() {
    let (repo, _data) = repository("services:\n  a:\n    command: \"true\"\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("", "    branches: [main, \"v[0-9\"]\n", "serve.yml:5:22:"),
        ("", "    branches: []\n", "serve.yml:5:15:"),
        ("", "    cancel_superseded: yes please\n", "serve.yml:5:"),
        (
            "keep: {runs: 0}\n",
            "",
            "serve.yml:1:14: `keep.runs` must be at least 1",
        ),
        ("keep: {days: -1}\n", "", "serve.yml:1:14: `keep.days`"),
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

#[test]
fn requeue_interrupted_false_leaves_a_run_the_stop_interrupted_as_it_is() {
    let (repo, data) = repository("services:\n  slow:\n    command: sleep 300\n");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let top = "requeue_interrupted: false\n";
    let server = server_of_app(repo.path(), data.path(), config_dir.path(), top, "");
    let (_, queued) = server.call(
        "POST",
        "/api/v1/runs",
        Some(r#"{"repository": "app", "ref": "main"}"#),
    );
    let id = queued["id"].as_i64().expect("an id");
    server.wait_for(id, &["running"]);
    assert_eq!(server.stop(Signal::SIGTERM), Some(0));

    let server = server_of_app(repo.path(), data.path(), config_dir.path(), top, "");
    assert_eq!(server.run(id)["status"], "interrupted");
    let (_, listed) = server.call("GET", "/api/v1/runs", None);
    assert_eq!(
        listed["runs"].as_array().map(Vec::len),
        Some(1),
        "nothing queued again: {listed}"
    );
}
