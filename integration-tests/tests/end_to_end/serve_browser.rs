//! The web UI in a real headless Chromium against the built server: the run list follows a
//! run, a job's log shows new lines as they are printed, the Cancel and Re-run buttons work,
//! and a 200,000-line log opens quickly. A failing test leaves a screenshot.

use crate::common::{Browser, Server, name_of, served_repository};
use std::path::Path;
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(20);

/// A server of a repository whose pipeline is `pipeline`, and one run of it queued.
fn served_run(pipeline: &str) -> (tempfile::TempDir, tempfile::TempDir, Server, i64) {
    let (repo, data) = served_repository(pipeline);
    let server = Server::start(repo.path(), data.path());
    let id = server.queue_branch(&name_of(repo.path()), "main");
    (repo, data, server, id)
}

/// A job that prints `first`, waits for `gate` to exist, then prints `second`.
fn gated_pipeline(gate: &Path) -> String {
    format!(
        "services:\n  talk:\n    command: sh -c 'echo first; while [ ! -f {gate} ]; do sleep 0.05; done; echo second'\n",
        gate = gate.display()
    )
}

#[test]
fn the_run_list_follows_a_run_from_running_to_passed_without_a_reload() {
    let Some(browser) = Browser::open("run-list") else {
        return;
    };
    let gates = tempfile::tempdir().expect("tempdir");
    let gate = gates.path().join("go");
    let (_repo, _data, server, id) = served_run(&gated_pipeline(&gate));
    browser.goto(&format!("{}/", server.url));
    let row = format!("tr[data-run='{id}'] .status");
    browser.wait_for_text(&row, PATIENCE, |status| status == "running");
    // Marked so that a reload would be seen: the page must change in place.
    browser.script("document.body.dataset.unreloaded = 'yes'; return null;");
    std::fs::write(&gate, "").expect("open the gate");
    browser.wait_for_text(&row, PATIENCE, |status| status == "passed");
    assert_eq!(
        browser.script("return document.body.dataset.unreloaded || null;"),
        serde_json::json!("yes"),
        "the list changed without a reload"
    );
    browser.screenshot("passed");
}

#[test]
fn a_jobs_log_page_shows_new_lines_as_they_are_printed() {
    let Some(browser) = Browser::open("live-log") else {
        return;
    };
    let gates = tempfile::tempdir().expect("tempdir");
    let gate = gates.path().join("go");
    let (_repo, _data, server, id) = served_run(&gated_pipeline(&gate));
    server.wait_for(id, &["running"]);
    browser.goto(&format!("{}/runs/{id}/jobs/talk", server.url));
    browser.wait_for_text("#log", PATIENCE, |log| log.contains("first"));
    assert_eq!(browser.text_of("#job-state").as_deref(), Some("running"));
    std::fs::write(&gate, "").expect("open the gate");
    let log = browser.wait_for_text("#log", PATIENCE, |log| log.contains("second"));
    assert_eq!(log.matches("first").count(), 1, "no line twice: {log:?}");
    browser.wait_for_text("#job-state", PATIENCE, |state| state == "passed");
    assert!(browser.exists("#L2"), "each line has its anchor");
    browser.screenshot("live");
}

#[test]
fn the_cancel_and_re_run_buttons_stop_a_run_and_queue_it_again() {
    let Some(browser) = Browser::open("buttons") else {
        return;
    };
    let (_repo, _data, server, id) =
        served_run("services:\n  slow:\n    command: sh -c 'echo started; sleep 60'\n");
    server.wait_for(id, &["running"]);
    browser.goto(&format!("{}/runs/{id}", server.url));
    browser.click("button.cancel");
    let run = server.wait_for(id, &["cancelled", "passed", "failed", "errored"]);
    assert_eq!(run["status"], "cancelled", "{run}");
    browser.wait_for_text("h1 .status", PATIENCE, |status| status == "cancelled");

    browser.click("button.rerun");
    let again_url = format!("{}/runs/{}", server.url, id + 1);
    let deadline = Instant::now() + PATIENCE;
    while browser.current_url() != again_url {
        assert!(
            Instant::now() < deadline,
            "Re-run did not lead to the new run: {}",
            browser.current_url()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let again = server.wait_for(id + 1, &["running"]);
    assert_eq!(
        (again["trigger"].as_str(), again["attempt_of"].as_i64()),
        (Some("rerun"), Some(id))
    );
    let (status, _) = server.call("POST", &format!("/api/v1/runs/{}/cancel", id + 1), None);
    assert_eq!(status, 202);
    server.wait_for(id + 1, &["cancelled"]);
}

#[test]
fn a_200000_line_log_opens_at_its_end_in_under_two_seconds() {
    let Some(browser) = Browser::open("big-log") else {
        return;
    };
    let (_repo, _data, server, id) =
        served_run("services:\n  loud:\n    command: sh -c 'seq 1 200000 | sed \"s/^/line /\"'\n");
    server.wait_for(id, &["passed"]);
    // The page itself first (layout, script, stylesheet), so that what is timed is the log.
    browser.goto(&format!("{}/runs/{id}", server.url));
    let start = Instant::now();
    browser.goto(&format!("{}/runs/{id}/jobs/loud", server.url));
    let deadline = start + Duration::from_secs(10);
    while !browser.exists("#L200000") {
        assert!(Instant::now() < deadline, "the last line never showed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "the log took {took:?} to show its end"
    );
    let shown = browser.script("return document.querySelectorAll('#log .line').length;");
    assert_eq!(
        shown,
        serde_json::json!(5000),
        "the last 5,000 lines, not all of them"
    );
    browser.click("#load-earlier");
    let deadline = Instant::now() + PATIENCE;
    while !browser.exists("#L190001") {
        assert!(Instant::now() < deadline, "load earlier brought nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!browser.exists("#L190000"));
    eprintln!("a 200,000-line log showed its end in {took:?}");
}
