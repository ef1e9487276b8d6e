//! `pipekit-ci serve` as a user starts it: the built binary in a real git repository, on a
//! loopback port, driven over HTTP by curl; stopped by SIGTERM and by `kill -9`.

use crate::common::{
    Server, binary, commit_all, eventually, git, name_of, processes_with,
    served_repository as repository,
};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

#[test]
fn a_run_queued_over_http_is_tested_from_its_commit_and_listed() {
    let (repo, data) = repository(
        "services:\n  hello:\n    command: echo hello from $PIPEKIT_BRANCH\n    signals:\n      greeted: Grep(stdout, \"hello\")\n",
    );
    let server = Server::start(repo.path(), data.path());
    let name = name_of(repo.path());
    assert_eq!(server.call("GET", "/healthz", None).0, 200);

    let body = format!(r#"{{"repository": "{name}", "ref": "main"}}"#);
    let (status, queued) = server.call("POST", "/api/v1/runs", Some(&body));
    assert_eq!(status, 201, "{queued}");
    let id = queued["id"].as_i64().expect("an id");
    let run = server.wait_for(id, &["passed", "failed", "errored", "invalid"]);
    assert_eq!(run["status"], "passed", "{run}");
    assert_eq!(run["branch"], "main");
    assert_eq!(run["trigger"], "manual");
    assert_eq!(run["number"], 1);
    let folder = run["run_folder"].as_str().expect("a run folder");
    let log = data
        .path()
        .join("runs")
        .join(&name)
        .join(folder)
        .join("logs/hello.log");
    assert_eq!(
        std::fs::read_to_string(&log).expect("the job's log").trim(),
        "hello from main"
    );

    // Its jobs, from the run folder's record.
    let job = &run["jobs"][0];
    assert_eq!(
        (job["name"].as_str(), job["state"].as_str()),
        (Some("hello"), Some("passed")),
        "{run}"
    );
    assert_eq!(
        (job["exit_code"].as_i64(), job["attempts"].as_i64()),
        (Some(0), Some(1))
    );
    let (started, finished) = (job["started_at"].as_str(), job["finished_at"].as_str());
    assert!(
        started.is_some_and(|s| s.ends_with('Z')) && finished >= started,
        "{job}"
    );
    assert_eq!(job["signals"][0]["name"], "greeted");
    assert!(
        job["signals"][0]["after_seconds"].as_f64().is_some(),
        "{job}"
    );

    let (status, listed) = server.call("GET", &format!("/api/v1/runs?repository={name}"), None);
    assert_eq!(status, 200);
    assert_eq!(listed["runs"].as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(
        server.stop(Signal::SIGTERM),
        Some(0),
        "a clean stop exits 0"
    );
}

#[test]
fn bad_requests_get_a_4xx_with_a_reason_and_the_server_goes_on() {
    let (repo, data) = repository("services:\n  a:\n    command: \"true\"\n");
    let server = Server::start(repo.path(), data.path());
    let name = name_of(repo.path());
    let cases: [(&str, String, Option<String>, u16, &str); 8] = [
        ("GET", "/api/v1/runs/x".into(), None, 400, "is not a run id"),
        ("GET", "/api/v1/runs/99".into(), None, 404, "no run 99"),
        (
            "GET",
            "/api/v1/runs?status=paused".into(),
            None,
            400,
            "no run status",
        ),
        (
            "GET",
            "/api/v1/runs?limit=0".into(),
            None,
            400,
            "limit takes a number",
        ),
        (
            "POST",
            "/api/v1/runs".into(),
            Some("{oops".into()),
            400,
            "JSON",
        ),
        (
            "POST",
            "/api/v1/runs".into(),
            Some(r#"{"repository": "nope", "ref": "main"}"#.into()),
            404,
            "no repository `nope`",
        ),
        (
            "POST",
            "/api/v1/runs".into(),
            Some(format!(
                r#"{{"repository": "{name}", "ref": "no-such-branch"}}"#
            )),
            422,
            "no-such-branch",
        ),
        ("GET", "/../../etc/passwd".into(), None, 404, "no such page"),
    ];
    for (method, path, body, expected, reason) in cases {
        let (status, answer) = server.call(method, &path, body.as_deref());
        assert_eq!(status, expected, "{method} {path}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{method} {path}: {answer}");
    }
    assert_eq!(server.call("GET", "/healthz", None).0, 200, "still serving");
}

#[test]
fn an_invalid_pipeline_gives_an_invalid_run_with_its_diagnostics() {
    let (repo, data) = repository("services:\n  build:\n    comand: make\n");
    let server = Server::start(repo.path(), data.path());
    let body = format!(
        r#"{{"repository": "{}", "ref": "main"}}"#,
        name_of(repo.path())
    );
    let (_, queued) = server.call("POST", "/api/v1/runs", Some(&body));
    let id = queued["id"].as_i64().expect("an id");
    let run = server.wait_for(id, &["invalid", "passed", "failed", "errored"]);
    assert_eq!(run["status"], "invalid", "{run}");
    let problem = run["problem"].as_str().unwrap_or_default();
    assert!(problem.contains("pipekit.yml:3:5"), "{problem}");
}

#[test]
fn a_running_run_is_cancelled_over_http_and_its_job_stopped() {
    let marker = format!("pipekit-serve-cancel-{}", std::process::id());
    let (repo, data) = repository(&format!(
        "services:\n  forever:\n    command: sleep 300; echo {marker}\n"
    ));
    let server = Server::start(repo.path(), data.path());
    let body = format!(
        r#"{{"repository": "{}", "ref": "main"}}"#,
        name_of(repo.path())
    );
    let (_, queued) = server.call("POST", "/api/v1/runs", Some(&body));
    let id = queued["id"].as_i64().expect("an id");
    server.wait_for(id, &["running"]);
    assert!(eventually(Duration::from_secs(10), || !processes_with(
        &marker
    )
    .is_empty()));

    let (status, answer) = server.call("POST", &format!("/api/v1/runs/{id}/cancel"), None);
    assert_eq!(status, 202, "{answer}");
    let run = server.wait_for(id, &["cancelled", "passed", "failed", "errored"]);
    assert_eq!(run["status"], "cancelled", "{run}");
    assert!(
        eventually(Duration::from_secs(10), || processes_with(&marker)
            .is_empty()),
        "the job's process is left"
    );
}

#[test]
fn a_server_killed_mid_run_shows_it_interrupted_and_runs_it_again_when_back() {
    // The first attempt sleeps for good; the repeat finds the file and passes at once.
    let scratch = tempfile::tempdir().expect("tempdir");
    let seen = scratch.path().join("seen");
    let marker = format!("pipekit-serve-restart-{}", std::process::id());
    let (repo, data) = repository(&format!(
        "services:\n  slow:\n    command: test -e {seen} || {{ touch {seen}; sleep 300; echo {marker}; }}\n",
        seen = seen.display()
    ));
    let server = Server::start(repo.path(), data.path());
    let body = format!(
        r#"{{"repository": "{}", "ref": "main"}}"#,
        name_of(repo.path())
    );
    let (_, queued) = server.call("POST", "/api/v1/runs", Some(&body));
    let id = queued["id"].as_i64().expect("an id");
    server.wait_for(id, &["running"]);
    assert!(eventually(Duration::from_secs(10), || !processes_with(
        &marker
    )
    .is_empty()));
    server.stop(Signal::SIGKILL);

    // The next commit is not what the requeued run tests: it repeats the interrupted one.
    std::fs::write(repo.path().join("README"), "later\n").expect("write");
    commit_all(repo.path(), "Later");
    let server = Server::start(repo.path(), data.path());
    let interrupted = server.run(id);
    assert_eq!(interrupted["status"], "interrupted", "{interrupted}");
    let (_, listed) = server.call("GET", "/api/v1/runs", None);
    // The commit made while it was down is seen by the first poll and run too.
    let again = listed["runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|run| run["attempt_of"] == id))
        .cloned()
        .unwrap_or_else(|| panic!("not queued again: {listed}"));
    assert_eq!(again["trigger"], "requeue");
    assert_eq!(again["commit"], interrupted["commit"]);
    let again = server.wait_for(again["id"].as_i64().expect("an id"), &["passed", "failed"]);
    assert_eq!(again["status"], "passed", "{again}");
    // The dead server's job was reaped as the repeat started (as `gc` reaps it).
    assert!(
        eventually(Duration::from_secs(10), || processes_with(&marker)
            .is_empty()),
        "the killed server's job is left: {:?}",
        processes_with(&marker)
    );
    assert_eq!(server.stop(Signal::SIGTERM), Some(0));
}

#[test]
fn a_commit_on_a_branch_is_seen_by_the_poll_and_run() {
    let (repo, data) = repository("services:\n  hello:\n    command: echo $PIPEKIT_COMMIT\n");
    let server = Server::start_with(repo.path(), data.path(), &["--poll", "0.2"]);
    // The first poll only learns the branches: nothing runs for what was there before.
    std::thread::sleep(Duration::from_millis(600));
    let (_, listed) = server.call("GET", "/api/v1/runs", None);
    assert_eq!(listed["runs"].as_array().map(Vec::len), Some(0), "{listed}");

    std::fs::write(repo.path().join("README"), "news\n").expect("write");
    let sha = commit_all(repo.path(), "News");
    let mut listed = Value::Null;
    let appeared = eventually(Duration::from_secs(30), || {
        listed = server.call("GET", "/api/v1/runs?status=passed", None).1;
        listed["runs"]
            .as_array()
            .is_some_and(|runs| !runs.is_empty())
    });
    assert!(appeared, "no passed run for the new commit: {listed}");
    let run = &listed["runs"][0];
    assert_eq!(
        (run["commit"].as_str(), run["trigger"].as_str()),
        (Some(sha.as_str()), Some("poll"))
    );
    assert_eq!(run["branch"], "main");
}

#[test]
fn a_poll_interval_that_is_no_number_of_seconds_is_invalid_input() {
    let (repo, data) = repository("services:\n  a:\n    command: \"true\"\n");
    let finished = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--poll=-1", "--data"])
        .arg(data.path())
        .current_dir(repo.path())
        .output()
        .expect("pipekit-ci runs");
    assert_eq!(finished.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&finished.stderr);
    assert!(
        stderr.contains("--poll takes a number of seconds"),
        "{stderr}"
    );
}

#[test]
fn a_push_into_a_bare_repository_is_told_to_the_server_by_its_hook_and_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bare = dir.path().join("app.git");
    std::fs::create_dir(&bare).expect("mkdir");
    git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    let data = tempfile::tempdir().expect("tempdir");
    // Only the hook queues here: no polling.
    let server = Server::start_with(&bare, data.path(), &["--poll", "0"]);

    let install = Command::new(binary())
        .args([
            "hook",
            "install",
            "--hook",
            "post-receive",
            "--server",
            &server.url,
        ])
        .current_dir(&bare)
        .output()
        .expect("pipekit-ci runs");
    assert!(
        install.status.success(),
        "{}",
        String::from_utf8_lossy(&install.stderr)
    );

    let work = dir.path().join("work");
    git(
        dir.path(),
        &["clone", "-q", bare.to_str().expect("utf-8"), "work"],
    );
    std::fs::write(
        work.join("pipekit.yml"),
        "services:\n  hello:\n    command: echo pushed\n",
    )
    .expect("write");
    let sha = commit_all(&work, "Pushed");
    let pushed = Command::new("git")
        .args(["push", "-q", "origin", "main"])
        .current_dir(&work)
        .output()
        .expect("git push runs");
    let told = String::from_utf8_lossy(&pushed.stderr);
    assert!(pushed.status.success(), "{told}");
    assert!(
        told.contains("post-receive: told"),
        "the pusher sees it: {told}"
    );

    let mut listed = Value::Null;
    let ran = eventually(Duration::from_secs(30), || {
        listed = server.call("GET", "/api/v1/runs?status=passed", None).1;
        listed["runs"]
            .as_array()
            .is_some_and(|runs| !runs.is_empty())
    });
    assert!(ran, "the push was not run: {listed}");
    let run = &listed["runs"][0];
    assert_eq!(
        (run["trigger"].as_str(), run["commit"].as_str()),
        (Some("hook"), Some(sha.as_str()))
    );
    assert_eq!(
        (run["repository"].as_str(), run["branch"].as_str()),
        (Some("app"), Some("main"))
    );

    // A notice without the header, or for another repository, is refused and queues nothing.
    let (status, _) = server.call("POST", "/hooks/app", Some(r#"{"updates": []}"#));
    assert_eq!(status, 400);
    let unknown = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args([
            "-H",
            "X-Pipekit-Event: push",
            "-H",
            "content-type: application/json",
        ])
        .args(["-d", r#"{"updates": []}"#])
        .arg(format!("{}/hooks/nope", server.url))
        .output()
        .expect("curl runs");
    assert_eq!(String::from_utf8_lossy(&unknown.stdout), "404");
}

#[test]
fn only_a_post_receive_hook_tells_a_server() {
    let (repo, _data) = repository("services:\n  a:\n    command: \"true\"\n");
    let installed = Command::new(binary())
        .args([
            "hook",
            "install",
            "--hook",
            "pre-push",
            "--server",
            "http://127.0.0.1:1",
        ])
        .current_dir(repo.path())
        .output()
        .expect("pipekit-ci runs");
    assert_eq!(installed.status.code(), Some(2));
    let https = Command::new(binary())
        .args([
            "hook",
            "install",
            "--hook",
            "post-receive",
            "--server",
            "https://ci",
        ])
        .current_dir(repo.path())
        .output()
        .expect("pipekit-ci runs");
    assert_eq!(https.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&https.stderr);
    assert!(stderr.contains("is not an http:// URL"), "{stderr}");
}

#[test]
fn the_queue_a_branch_badge_and_the_metrics_say_how_things_stand() {
    let (repo, data) = repository("services:\n  a:\n    command: \"true\"\n");
    let server = Server::start(repo.path(), data.path());
    let name = name_of(repo.path());
    let badge = |branch: &str| {
        let output = Command::new("curl")
            .args(["-s", "-w", "\n%{http_code} %{content_type}"])
            .arg(format!("{}/badge/{name}/{branch}.svg", server.url))
            .output()
            .expect("curl runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let before = badge("main");
    assert!(
        before.contains("no runs") && before.ends_with("200 image/svg+xml"),
        "{before}"
    );

    let body = format!(r#"{{"repository": "{name}", "ref": "main"}}"#);
    let (_, queued) = server.call("POST", "/api/v1/runs", Some(&body));
    let id = queued["id"].as_i64().expect("an id");
    server.wait_for(id, &["passed", "failed", "errored"]);
    let after = badge("main");
    assert!(after.contains("pipekit: passed"), "{after}");
    assert!(
        badge("release/1.0").contains("no runs"),
        "a branch with a slash is a path"
    );

    let (status, queue) = server.call("GET", "/api/v1/queue", None);
    assert_eq!(status, 200);
    assert_eq!(queue["queue"].as_array().map(Vec::len), Some(0), "{queue}");
    assert!(
        queue["slots"].as_u64().is_some_and(|slots| slots >= 1),
        "{queue}"
    );

    let metrics = Command::new("curl")
        .args(["-s"])
        .arg(format!("{}/metrics", server.url))
        .output()
        .expect("curl runs");
    let metrics = String::from_utf8_lossy(&metrics.stdout);
    assert!(
        metrics.contains("pipekit_runs{status=\"passed\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("pipekit_queue_length 0"), "{metrics}");
    let (status, _) = server.call("GET", "/badge/nope/main.svg", None);
    assert_eq!(status, 404);
}

#[test]
fn a_config_file_serves_several_repositories_by_path_and_file_url() {
    let (app, _) = repository("services:\n  a:\n    command: echo app\n");
    let (lib, _) = repository("services:\n  b:\n    command: echo lib\n");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let config = elsewhere.path().join("serve.yml");
    std::fs::write(
        &config,
        format!(
            "max_runs: 1\nrepositories:\n  app:\n    url: {}\n    poll: 0\n  lib:\n    url: file://{}\n",
            app.path().display(),
            lib.path().display()
        ),
    )
    .expect("write the config");
    let config_arg = config.to_str().expect("utf-8").to_owned();
    // Started outside any repository: the config says what to serve.
    let server = Server::start_with(elsewhere.path(), data.path(), &["--config", &config_arg]);
    for (name, job) in [("app", "a"), ("lib", "b")] {
        let body = format!(r#"{{"repository": "{name}", "ref": "main"}}"#);
        let (status, queued) = server.call("POST", "/api/v1/runs", Some(&body));
        assert_eq!(status, 201, "{queued}");
        let run = server.wait_for(queued["id"].as_i64().expect("an id"), &["passed", "failed"]);
        assert_eq!(
            (run["status"].as_str(), run["repository"].as_str()),
            (Some("passed"), Some(name))
        );
        assert_eq!(run["jobs"][0]["name"], job);
    }
    let (_, queue) = server.call("GET", "/api/v1/queue", None);
    assert_eq!(queue["slots"], 1, "{queue}");
}

#[test]
fn a_config_file_with_a_mistake_is_invalid_input_naming_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("serve.yml");
    std::fs::write(
        &config,
        "repositories:\n  app:\n    url: /nowhere\n    pol: 5\n",
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
    assert_eq!(finished.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&finished.stderr);
    assert!(
        stderr.contains("serve.yml:4:") && stderr.contains("pol"),
        "{stderr}"
    );
}
