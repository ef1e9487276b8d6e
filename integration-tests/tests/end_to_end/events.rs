//! `events.jsonl` (spec 7): one JSON object a line, numbered from 0 without a gap, framed by
//! `run_started` and `run_finished` (whose exit code is the process's), secrets masked,
//! and the same story `run.json` tells.

use crate::common::{Project, RunStatus, eventually};
use nix::sys::signal::{Signal, kill};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const TOKEN: &str = "tok-events-1234-abcd";
const TOKEN_VARIABLE: &str = "PIPEKIT_E2E_EVENTS_TOKEN";

/// Every line of the run's `events.jsonl`, parsed; fails the test on a line that is not JSON.
#[track_caller]
fn events_of(run_dir: &Path) -> (String, Vec<Value>) {
    let path = run_dir.join("events.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    assert!(text.ends_with('\n'), "the last line is whole:\n{text}");
    let events = text
        .lines()
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON ({error}): {line}"))
        })
        .collect();
    (text, events)
}

/// What every run's events promise, whatever happened in it.
#[track_caller]
fn assert_well_formed(events: &[Value], run_id: &str, exit_code: i32) {
    for (index, event) in events.iter().enumerate() {
        assert_eq!(event["seq"], index, "seq without gap: {event}");
        assert_eq!(event["run"], run_id, "{event}");
        let at = event["at"].as_str().unwrap_or_default();
        let shape = at.len() == 24
            && at.ends_with('Z')
            && at.as_bytes()[10] == b'T'
            && at.as_bytes()[19] == b'.';
        assert!(shape, "`at` is RFC 3339 with milliseconds in UTC: {event}");
    }
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"run_started"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"run_finished"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|kind| **kind == "run_finished").count(),
        1
    );
    let last = &events[events.len() - 1];
    assert_eq!(last["exit_code"], exit_code, "{last}");
    for job in events[0]["jobs"]
        .as_array()
        .expect("run_started lists the jobs")
    {
        let name = &job["name"];
        let position = |kind: &str| {
            events
                .iter()
                .position(|e| e["kind"] == kind && &e["job"] == name)
        };
        let finished = position("job_finished");
        assert!(finished.is_some(), "job {name} never finished: {kinds:?}");
        if let Some(started) = position("job_started") {
            assert!(
                Some(started) < finished,
                "job {name} finished before it started"
            );
        }
    }
}

/// The state of `job` as its `job_finished` says.
fn finished<'e>(events: &'e [Value], job: &str) -> &'e Value {
    events
        .iter()
        .find(|e| e["kind"] == "job_finished" && e["job"] == job)
        .unwrap_or_else(|| panic!("no job_finished for `{job}`"))
}

#[test]
fn events_tell_the_run_as_run_json_does_and_never_show_a_secret() {
    let project = Project::new(&format!(
        r#"
secrets:
  api_token:
    environment: {TOKEN_VARIABLE}
services:
  producer:
    secrets: [api_token]
    command: sh -c 'echo "ready with $api_token"; echo "$api_token" > "$PIPEKIT_SHARED/consumer/.env"; mkdir -p out; echo "<testsuites/>" > out/producer.xml'
    junit: [out/producer.xml]
    signals:
      ready: Grep(stdout, "ready")
  consumer:
    depends_on: [producer.ready, producer.ExitCode(0)]
    command: "true"
  after:
    depends_on: [consumer.ExitCode(0)]
    command: "true"
"#
    ));
    let finished_run = project.run_with_env(&["run", "--no-progress"], &[(TOKEN_VARIABLE, TOKEN)]);
    finished_run.assert_code(1);
    let run_dir = project.run_dir();
    let (text, events) = events_of(&run_dir);
    assert_well_formed(&events, &project.run_id(), 1);
    assert!(
        !text.contains(TOKEN),
        "events.jsonl shows the secret:\n{text}"
    );

    let last = &events[events.len() - 1];
    assert_eq!(last["status"], "failed");
    let run = project.run_json();
    assert_eq!(run.status, RunStatus::Failed);
    for job in ["producer", "consumer", "after"] {
        let event = finished(&events, job);
        assert_eq!(
            event["state"],
            format!("{:?}", run.state(job)).to_lowercase(),
            "{event}"
        );
        assert_eq!(
            event["reason"]["text"].as_str().unwrap_or_default(),
            run.reason(job)
        );
    }
    // The consumer's `.env` held the secret, which the reason quotes, masked.
    let consumer = finished(&events, "consumer");
    assert!(
        consumer["reason"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("***")),
        "{consumer}"
    );
    let after = finished(&events, "after");
    assert_eq!(after["reason"]["kind"], "condition_never", "{after}");
    assert_eq!(
        after["reason"]["condition"], "consumer.ExitCode(0)",
        "{after}"
    );

    let fired = events
        .iter()
        .find(|e| e["kind"] == "signal_fired")
        .expect("signal_fired");
    assert_eq!(
        (&fired["job"], &fired["signal"]),
        (&"producer".into(), &"ready".into())
    );
    assert!(fired["after_seconds"].as_f64().is_some(), "{fired}");
    let junit = events
        .iter()
        .find(|e| e["kind"] == "junit_files")
        .expect("junit_files");
    assert_eq!(junit["job"], "producer");
    assert_eq!(
        serde_json::json!(run.job("producer").junit_files),
        junit["files"],
        "run.json's JUnit files are the event's"
    );
}

#[test]
fn a_passing_run_ends_with_exit_code_0() {
    let project = Project::new("services:\n  one:\n    command: \"true\"\n");
    project.run_pipeline(&[]).assert_code(0);
    let (_, events) = events_of(&project.run_dir());
    assert_well_formed(&events, &project.run_id(), 0);
    assert_eq!(events[events.len() - 1]["status"], "passed");
}

#[test]
fn an_interrupted_run_ends_with_exit_code_130() {
    let project = Project::new("services:\n  slow:\n    command: sh -c 'echo up; sleep 30'\n");
    let started = project.spawn(&["run", "--no-progress"]);
    let up = eventually(Duration::from_secs(15), || {
        project.run_dirs().iter().any(|dir| {
            std::fs::read_to_string(dir.join("events.jsonl"))
                .is_ok_and(|text| text.contains("\"job_started\""))
        })
    });
    kill(started.pid(), Signal::SIGINT).expect("cannot signal pipekit-ci");
    let finished_run = started.wait(Duration::from_secs(15));
    assert!(up, "the job never started");
    finished_run.assert_code(130);
    let (_, events) = events_of(&project.run_dir());
    assert_well_formed(&events, &project.run_id(), 130);
    assert_eq!(events[events.len() - 1]["status"], "interrupted");
    assert_eq!(finished(&events, "slow")["state"], "cancelled");
}
