//! Runs as library calls: two at once in one process, on one runtime, with the process's
//! host supervisor (this test binary becomes a subreaper, as the CLI does).

use super::*;
use crate::executor::{HostSupervisor, JobTag};
use crate::report::{JobState, RunStatus};
use crate::run::{Reporter, RunEvent, Workspaces};
use pipekit_schema::{Pipeline, Source, parse};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Keeps every event of one run, and when the run's last one came.
#[derive(Clone, Default)]
pub(super) struct Collector {
    events: Arc<Mutex<Vec<RunEvent>>>,
    finished: Arc<Mutex<Option<Instant>>>,
}

impl Reporter for Collector {
    fn on_event(&mut self, _at: Duration, event: &RunEvent) {
        if matches!(event, RunEvent::RunFinished { .. }) {
            *self.finished.lock().expect("collector") = Some(Instant::now());
        }
        self.events.lock().expect("collector").push(event.clone());
    }
}

pub(super) fn pipeline(yaml: &str) -> Arc<Pipeline> {
    let source = Source {
        name: "pipekit.yml".into(),
        text: yaml.into(),
    };
    Arc::new(parse(&source).expect("valid pipeline").pipeline)
}

pub(super) fn request(
    pipeline: &Arc<Pipeline>,
    dir: &std::path::Path,
    collector: &Collector,
) -> RunRequest {
    RunRequest {
        pipeline: pipeline.clone(),
        pipeline_file: "pipekit.yml".into(),
        source: RunSource {
            workspaces: Workspaces::Shared(dir.to_path_buf()),
            pipeline_dir: dir.to_path_buf(),
            secrets_dir: dir.to_path_buf(),
            commit: None,
            label: dir.join("pipekit.yml"),
        },
        runs: crate::storage::RunsDir::Beside(dir.to_path_buf()),
        options: SessionOptions {
            fail_fast: false,
            only: Vec::new(),
            stop_grace: Duration::from_secs(2),
            containers: false,
            keep_running: false,
            log_limit: None,
            extra_junit: None,
            reuse: None,
        },
        // Only what the jobs need: the library never reads the process's environment.
        host_env: [("PATH".to_string(), "/usr/bin:/bin".to_string())]
            .into_iter()
            .collect(),
        cancel: CancelSignal::never(),
        engine: None,
        supervisor: HostSupervisor::for_process(),
        events: vec![Box::new(collector.clone())],
    }
}

/// The job names an event is about, looked up in the run's own pipeline (an id out of its
/// range would panic there, which is the point).
fn jobs_named(pipeline: &Pipeline, events: &[RunEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            RunEvent::JobStarted { job } | RunEvent::JobFinished { job, .. } => {
                Some(pipeline.job(*job).name.clone())
            }
            _ => None,
        })
        .collect()
}

fn alive(pid: i32) -> bool {
    // A zombie has no command line left: it is not running any more.
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|line| !line.is_empty())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_at_once_keep_to_their_own_processes() {
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    // A's job leaves a daemon too, killed with A's end; B's job needs its daemon for 3 s,
    // well past A's end, and fails the moment it is gone.
    let a = pipeline(
        r#"
services:
  quick:
    command: sh -c '(setsid sleep 60 &) ; sleep 0.3'
"#,
    );
    let b = pipeline(
        r#"
services:
  needs-daemon:
    command: >-
      sh -c '(setsid sleep 60 & echo $! > "$PIPEKIT_SHARED/daemon.pid");
      i=0; while [ $i -lt 30 ]; do kill -0 "$(cat "$PIPEKIT_SHARED/daemon.pid")" || exit 7;
      sleep 0.1; i=$((i+1)); done'
"#,
    );
    let (collect_a, collect_b) = (Collector::default(), Collector::default());
    let (outcome_a, outcome_b) = tokio::join!(
        run(request(&a, dir_a.path(), &collect_a)),
        run(request(&b, dir_b.path(), &collect_b)),
    );
    let (outcome_a, outcome_b) = (outcome_a.expect("run A"), outcome_b.expect("run B"));

    let ended_a = collect_a.finished.lock().expect("a").expect("A finished");
    let ended_b = collect_b.finished.lock().expect("b").expect("B finished");
    assert!(ended_a < ended_b, "A must end while B's job still runs");
    assert_eq!(
        outcome_a.status(),
        RunStatus::Passed,
        "{:?}",
        outcome_a.record
    );
    assert_eq!(
        outcome_b.record.jobs[0].state,
        JobState::Passed,
        "B's daemon must survive A's end: {:?}",
        outcome_b.record
    );
    assert_eq!(outcome_b.exit_code(), PASSED);

    let daemon: i32 = std::fs::read_to_string(dir_b.path().join(format!(
        ".pipekit/runs/{}/shared/daemon.pid",
        outcome_b.run_id()
    )))
    .expect("daemon pid")
    .trim()
    .parse()
    .expect("a pid");
    for outcome in [&outcome_a, &outcome_b] {
        assert!(
            JobTag::run(outcome.run_id()).find().is_empty(),
            "run {} left processes",
            outcome.run_id()
        );
    }
    assert!(!alive(daemon), "B's daemon outlived B");

    let events_a = collect_a.events.lock().expect("a").clone();
    let events_b = collect_b.events.lock().expect("b").clone();
    assert_eq!(jobs_named(&a, &events_a), ["quick", "quick"]);
    assert_eq!(jobs_named(&b, &events_b), ["needs-daemon", "needs-daemon"]);
    let run_ids = |events: &[RunEvent]| -> Vec<String> {
        events
            .iter()
            .filter_map(|event| match event {
                RunEvent::RunStarted { run_id, .. } => Some(run_id.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(run_ids(&events_a), [outcome_a.run_id()]);
    assert_eq!(run_ids(&events_b), [outcome_b.run_id()]);
}

#[tokio::test]
async fn a_cancel_before_the_start_interrupts_the_run() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = pipeline("services:\n  slow:\n    command: sleep 30\n");
    let collector = Collector::default();
    let (handle, cancel) = cancel_channel();
    handle.cancel();
    let mut request = request(&p, dir.path(), &collector);
    request.cancel = cancel;
    request.supervisor = HostSupervisor::unsupervised();
    let started = Instant::now();
    let outcome = run(request).await.expect("run");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(outcome.interrupted);
    assert_eq!(outcome.exit_code(), INTERRUPTED);
}

#[tokio::test]
async fn a_missing_secret_is_an_error_before_any_folder() {
    let dir = tempfile::tempdir().expect("tmp");
    let p = pipeline(
        "secrets:\n  token:\n    environment: NOT_IN_THIS_ENVIRONMENT\nservices:\n  use:\n    command: \
         'true'\n    secrets: [token]\n",
    );
    let mut request = request(&p, dir.path(), &Collector::default());
    request.supervisor = HostSupervisor::unsupervised();
    let error = run(request).await.expect_err("an error");
    assert_eq!(error.exit_code(), ENVIRONMENT, "{error}");
    assert!(!dir.path().join(".pipekit/runs").exists());
}

/// A service spawns runs on its runtime: the run must be a `Send` future.
#[test]
fn a_run_is_a_send_future() {
    fn spawnable<F: std::future::Future + Send>(_: &F) {}
    let dir = tempfile::tempdir().expect("tmp");
    let p = pipeline("services:\n  one:\n    command: 'true'\n");
    let future = run(request(&p, dir.path(), &Collector::default()));
    spawnable(&future);
}

/// The driver runs on a task of its own; dropping the run must still stop it, as when it
/// ran inside the caller's future (a `JoinHandle` alone would let it run on unseen).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_run_stops_its_driver() {
    let dir = tempfile::tempdir().expect("tmp");
    let pipeline = pipeline(
        r#"
services:
  short:
    command: sleep 0.5
"#,
    );
    let collector = Collector::default();
    let prepared = PreparedRun::prepare(request(&pipeline, dir.path(), &collector))
        .await
        .expect("prepared");
    let dropped = tokio::time::timeout(Duration::from_millis(150), prepared.run()).await;
    assert!(dropped.is_err(), "the run ended before it was dropped");
    // Long after the job would have ended: a driver still going would have said so.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let events = collector.events.lock().expect("collector");
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, RunEvent::JobFinished { .. })),
        "the dropped run went on: {events:?}"
    );
}
