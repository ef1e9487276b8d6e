//! Re-running only the failed jobs of a run, over the service's API and its run page: the
//! built binary, a real repository, real processes; what passed is reused, not run again.

use crate::common::{Server, commit_all, name_of, served_repository};
use serde_json::Value;
use std::path::Path;

/// `build` counts its runs in a file outside the repository and leaves an artifact;
/// `test` needs that artifact and fails its first time (it leaves a marker, outside the
/// repository too, and passes once the marker is there); `deploy` needs `test`.
fn flaky_pipeline(outside: &Path) -> String {
    format!(
        r#"services:
  build:
    command: sh -c 'echo run >> {count}; mkdir -p out; echo v1 > out/app'
    artifacts: [out/app]
  test:
    depends_on: [build.ExitCode(0)]
    command: >-
      sh -c 'test "$(cat out/app)" = v1 || exit 9;
      if [ -e {marker} ]; then echo passing; else touch {marker}; exit 4; fi'
  deploy:
    depends_on: [test.ExitCode(0)]
    command: echo deployed
"#,
        count = outside.join("build-count").display(),
        marker = outside.join("test-marker").display(),
    )
}

const ENDED: &[&str] = &["passed", "failed", "errored", "invalid", "cancelled"];

fn job<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["jobs"]
        .as_array()
        .and_then(|jobs| jobs.iter().find(|job| job["name"] == name))
        .unwrap_or_else(|| panic!("no job `{name}` in {run}"))
}

fn queue(server: &Server, repository: &str) -> Vec<i64> {
    let body = format!(r#"{{"repository": "{repository}", "ref": "main"}}"#);
    let (status, queued) = server.call("POST", "/api/v1/runs", Some(&body));
    assert_eq!(status, 201, "{queued}");
    queued["ids"]
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

fn rerun(server: &Server, id: i64, body: &str) -> (u16, Value) {
    server.call("POST", &format!("/api/v1/runs/{id}/rerun"), Some(body))
}

#[test]
fn rerunning_the_failed_jobs_reuses_the_build_and_its_artifact() {
    let outside = tempfile::tempdir().expect("tempdir");
    let (repo, data) = served_repository(&flaky_pipeline(outside.path()));
    let server = Server::start(repo.path(), data.path());
    let name = name_of(repo.path());
    let count = || std::fs::read_to_string(outside.path().join("build-count")).unwrap_or_default();

    let first = queue(&server, &name)[0];
    let run = server.wait_for(first, ENDED);
    assert_eq!(run["status"], "failed", "{run}");
    assert_eq!(job(&run, "build")["state"], "passed", "{run}");
    assert_eq!(job(&run, "test")["state"], "failed", "{run}");
    assert_eq!(job(&run, "deploy")["state"], "skipped", "{run}");
    assert_eq!(count(), "run\n");
    let first_folder = run["run_folder"].as_str().expect("a run folder").to_owned();
    let (_, page) = server.call("GET", &format!("/runs/{first}"), None);
    assert!(
        page.as_str()
            .is_some_and(|html| html.contains(&format!("/runs/{first}/rerun-failed"))),
        "no Re-run failed button: {page}"
    );

    let (status, queued) = rerun(&server, first, r#"{"failed": true}"#);
    assert_eq!(status, 201, "{queued}");
    let second = queued["id"].as_i64().expect("an id");
    let run = server.wait_for(second, ENDED);
    assert_eq!(run["status"], "passed", "{run}");
    assert_eq!(
        (run["trigger"].as_str(), run["attempt_of"].as_i64()),
        (Some("rerun"), Some(first))
    );
    assert_eq!(count(), "run\n", "build ran again");
    let build = job(&run, "build");
    assert_eq!(
        (build["state"].as_str(), build["exit_code"].as_i64()),
        (Some("passed"), Some(0)),
        "{run}"
    );
    assert_eq!(
        build["reason"].as_str(),
        Some(format!("reused from run {first_folder}").as_str()),
        "{run}"
    );
    assert_eq!(job(&run, "test")["state"], "passed", "{run}");
    assert_eq!(job(&run, "deploy")["state"], "passed", "{run}");
    // The new run folder is complete: the reused build's archive and log are in it.
    let folder = data
        .path()
        .join("runs")
        .join(&name)
        .join(run["run_folder"].as_str().expect("a run folder"));
    assert!(folder.join("artifacts/build.tar.zst").is_file());
    assert!(folder.join("logs/build.log").is_file());
    assert_eq!(
        std::fs::read_to_string(folder.join("logs/test.log")).expect("test's log"),
        "passing\n"
    );
    let (status, _) = server.call_with(
        "GET",
        &format!("/api/v1/runs/{second}/artifacts/build"),
        &[],
        None,
    );
    assert_eq!(status, 200, "the reused archive is served with the new run");
    let (_, page) = server.call("GET", &format!("/runs/{second}"), None);
    assert!(
        page.as_str()
            .is_some_and(|html| !html.contains("rerun-failed")),
        "a Re-run failed button on a run that passed"
    );

    // The page's button is a plain form post, as the Re-run one.
    let (status, _) = server.call_with(
        "POST",
        &format!("/runs/{first}/rerun-failed"),
        &["content-type: application/x-www-form-urlencoded"],
        Some(b"csrf="),
    );
    assert_eq!(status, 303);
    let (_, runs) = server.call("GET", &format!("/api/v1/runs?repository={name}"), None);
    let third = runs["runs"][0]["id"].as_i64().expect("the button's run");
    assert!(third > second, "{runs}");
    let run = server.wait_for(third, ENDED);
    assert_eq!(run["status"], "passed", "{run}");
    assert_eq!(count(), "run\n", "build ran again");
}

#[test]
fn rerun_requests_that_cannot_be_served_get_a_4xx_and_nothing_runs() {
    let outside = tempfile::tempdir().expect("tempdir");
    let (repo, data) = served_repository(&flaky_pipeline(outside.path()));
    // A second pipeline file that does not validate: its run is `invalid`, with no folder.
    std::fs::create_dir_all(repo.path().join(".pipekit")).expect("mkdir");
    std::fs::write(
        repo.path().join(".pipekit/broken.yml"),
        "services:\n  lonely:\n    depends_on: [nobody.ExitCode(0)]\n    command: \"true\"\n",
    )
    .expect("write");
    commit_all(repo.path(), "A broken pipeline too");
    let server = Server::start(repo.path(), data.path());
    let name = name_of(repo.path());

    let ids = queue(&server, &name);
    assert_eq!(ids.len(), 2, "{ids:?}");
    let runs: Vec<Value> = ids.iter().map(|id| server.wait_for(*id, ENDED)).collect();
    let failed = runs
        .iter()
        .find(|run| run["status"] == "failed")
        .and_then(|run| run["id"].as_i64())
        .unwrap_or_else(|| panic!("no failed run: {runs:?}"));
    let invalid = runs
        .iter()
        .find(|run| run["status"] == "invalid")
        .and_then(|run| run["id"].as_i64())
        .unwrap_or_else(|| panic!("no invalid run: {runs:?}"));

    let cases: [(i64, &str, u16, &str); 8] = [
        (
            failed,
            r#"{"jobs": ["nobody"]}"#,
            400,
            "has no job `nobody`",
        ),
        (failed, r#"{"jobs": "test"}"#, 400, "not a re-run request"),
        (failed, r#"{"jobs": []}"#, 400, "at least one job"),
        (
            failed,
            r#"{"jobs": ["test"], "failed": true}"#,
            400,
            "not both",
        ),
        (
            failed,
            r#"{"failed": true, "more": 1}"#,
            400,
            "unknown field",
        ),
        (failed, "{oops", 400, "not a re-run request"),
        (invalid, r#"{"failed": true}"#, 422, "no run folder"),
        (99, r#"{"failed": true}"#, 404, "no run 99"),
    ];
    for (id, body, expected, reason) in cases {
        let (status, answer) = rerun(&server, id, body);
        assert_eq!(status, expected, "{body}: {answer}");
        assert!(
            answer["error"]
                .as_str()
                .is_some_and(|error| error.contains(reason)),
            "{body}: {answer}"
        );
    }
    // `deploy` alone would reuse `test`, which failed: refused at once, as the run would.
    let (status, answer) = rerun(&server, failed, r#"{"jobs": ["deploy"]}"#);
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|error| error.contains("job `test` cannot be reused: it was failed")),
        "{answer}"
    );
    // Nothing was queued by any of them.
    let (_, listed) = server.call("GET", &format!("/api/v1/runs?repository={name}"), None);
    assert_eq!(listed["runs"].as_array().map(Vec::len), Some(2), "{listed}");

    // Once the failed jobs passed, there is nothing failed left to run again.
    let (status, queued) = rerun(&server, failed, r#"{"failed": true}"#);
    assert_eq!(status, 201, "{queued}");
    let passed = queued["id"].as_i64().expect("an id");
    assert_eq!(server.wait_for(passed, ENDED)["status"], "passed");
    let (status, answer) = rerun(&server, passed, r#"{"failed": true}"#);
    assert_eq!(status, 422, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|error| error.contains("no failed, skipped or cancelled job")),
        "{answer}"
    );
    let (status, _) = server.call_with(
        "POST",
        &format!("/runs/{passed}/rerun-failed"),
        &["content-type: application/x-www-form-urlencoded"],
        Some(b"csrf="),
    );
    assert_eq!(status, 422, "the page's button on a run that passed");
}
