//! The driver with real host processes. Timer cases run on tokio's paused clock: while the
//! runtime waits on a process, time jumps to the next timer, so timeouts are deterministic.

use super::test_run::{TestRun, test_run};
use super::*;
use crate::executor::LocalExecutor;
use crate::report::{JobState, RunRecord};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// Keeps every event, to assert on their order; asks for every change of a wait when
/// `every_wait` is set (as the console with progress bars does).
#[derive(Clone, Default)]
struct Collector(Arc<Mutex<Vec<RunEvent>>>, bool);

impl Reporter for Collector {
    fn on_event(&mut self, _at: Duration, event: &RunEvent) {
        self.0.lock().expect("collector").push(event.clone());
    }

    fn wants_every_wait(&self) -> bool {
        self.1
    }
}

struct Outcome {
    record: RunRecord,
    events: Vec<RunEvent>,
    /// What the run wrote to `events.jsonl`.
    events_jsonl: String,
    interrupted: bool,
    _dir: tempfile::TempDir,
}

async fn run_yaml(yaml: &str, interrupt_after: Option<Duration>) -> Outcome {
    run_collected(yaml, interrupt_after, Collector::default()).await
}

async fn run_collected(
    yaml: &str,
    interrupt_after: Option<Duration>,
    collector: Collector,
) -> Outcome {
    let TestRun {
        dir,
        pipeline,
        folder,
        events,
    } = test_run(yaml);
    let mut reporters: Vec<Box<dyn Reporter>> =
        vec![Box::new(events.clone()), Box::new(collector.clone())];
    let context = RunContext {
        pipeline: pipeline.clone(),
        folder: folder.clone(),
        workspaces: crate::run::Workspaces::Shared(dir.path().to_path_buf()),
        pipeline_dir: dir.path().to_path_buf(),
        run_variables: Vec::new(),
        executors: crate::executor::Executors::host_only(Arc::new(LocalExecutor::default())),
        plan: crate::run::RunPlan::new(&pipeline, &[], false),
        options: RunOptions {
            fail_fast: false,
            only: Vec::new(),
            stop_grace: Duration::from_secs(5),
            keep_running: false,
            log_limit: None,
        },
        secrets: Default::default(),
        artifacts: Arc::new(crate::storage::FolderStore(folder.clone())),
        host_env: std::env::vars_os()
            .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
            .collect(),
        reused: Default::default(),
    };
    let (sender, receiver) = mpsc::unbounded_channel();
    if let Some(after) = interrupt_after {
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let _ = sender.send(());
        });
    } else {
        std::mem::forget(sender);
    }
    let interrupted = execute(context, &mut reporters, receiver).await;
    let end = events.finish();
    let events = collector.0.lock().expect("collector").clone();
    let events_jsonl =
        std::fs::read_to_string(folder.root().join(EVENTS_FILE)).expect("events.jsonl");
    Outcome {
        record: end.record,
        events,
        events_jsonl,
        interrupted,
        _dir: dir,
    }
}

fn job<'r>(record: &'r RunRecord, name: &str) -> &'r crate::report::JobRecord {
    record
        .jobs
        .iter()
        .find(|job| job.name == name)
        .expect("job in record")
}

#[tokio::test(start_paused = true)]
async fn job_timeout_stops_and_fails_the_job() {
    let outcome = run_yaml(
        "services:\n  slow:\n    command: sleep 600\n    timeout: 2\n",
        None,
    )
    .await;
    let slow = job(&outcome.record, "slow");
    assert_eq!(slow.state, JobState::Failed);
    assert_eq!(slow.reason.as_deref(), Some("timed out after 2s"));
}

#[tokio::test(start_paused = true)]
async fn signal_timeout_fails_the_job_and_skips_its_dependent() {
    let yaml = r#"
services:
  server:
    command: sleep 600
    signals:
      ready: Grep(stdout, "listening"):3
  client:
    depends_on: [server.ready]
    command: "true"
"#;
    let outcome = run_yaml(yaml, None).await;
    let server = job(&outcome.record, "server");
    assert_eq!(server.state, JobState::Failed);
    assert_eq!(
        server.reason.as_deref(),
        Some("signal `ready` timed out after 3s")
    );
    let client = job(&outcome.record, "client");
    assert_eq!(client.state, JobState::Skipped);
    assert!(
        client
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("`server.ready` can no longer hold")
    );
}

#[tokio::test]
async fn grep_signal_releases_the_dependent_while_the_server_runs() {
    let yaml = r#"
services:
  server:
    detach: true
    command: echo booting; echo "server is ready"; exec sleep 600
    signals:
      ready: Grep(stdout, "is ready$")
  client:
    depends_on: [server.ready]
    command: echo "$PIPEKIT_JOB ran"
"#;
    let outcome = run_yaml(yaml, None).await;
    assert_eq!(job(&outcome.record, "client").state, JobState::Passed);
    assert_eq!(
        job(&outcome.record, "server").state,
        JobState::Passed,
        "stopped, not failed"
    );
    let fired = job(&outcome.record, "server").signals[0].fired_after_seconds;
    assert!(fired.is_some(), "signal time recorded");
    let position = |wanted: &dyn Fn(&RunEvent) -> bool| {
        outcome
            .events
            .iter()
            .position(wanted)
            .expect("event present")
    };
    let ready_line =
        position(&|e| matches!(e, RunEvent::Output { line, .. } if line == "server is ready"));
    let fired = position(&|e| matches!(e, RunEvent::SignalFired { .. }));
    let client_started = position(&|e| matches!(e, RunEvent::JobStarted { job } if job.0 == 1));
    assert!(ready_line < fired && fired < client_started);
}

#[tokio::test]
async fn interrupt_cancels_running_jobs_and_skips_waiting_ones() {
    let yaml = r#"
services:
  long:
    command: sleep 600
  after:
    depends_on: [long.ExitCode(0)]
    command: "true"
"#;
    let outcome = run_yaml(yaml, Some(Duration::from_millis(300))).await;
    assert!(outcome.interrupted);
    assert_eq!(job(&outcome.record, "long").state, JobState::Cancelled);
    assert_eq!(job(&outcome.record, "after").state, JobState::Skipped);
    assert_eq!(outcome.record.status, crate::report::RunStatus::Interrupted);
}

#[tokio::test]
async fn env_handed_through_shared_storage_reaches_the_next_job() {
    let yaml = r#"
services:
  producer:
    command: echo 'GREETING="hello there"' > "$PIPEKIT_SHARED/consumer/.env"
  consumer:
    depends_on: [producer.ExitCode(0)]
    command: test "$GREETING" = "hello there" && test "$CI" = true
"#;
    let outcome = run_yaml(yaml, None).await;
    assert_eq!(job(&outcome.record, "consumer").state, JobState::Passed);
}

#[tokio::test]
async fn malformed_env_fails_the_job_before_it_starts() {
    let yaml = r#"
services:
  producer:
    command: echo 'not a pair' > "$PIPEKIT_SHARED/consumer/.env"
  consumer:
    depends_on: [producer.ExitCode(0)]
    command: "true"
"#;
    let outcome = run_yaml(yaml, None).await;
    let consumer = job(&outcome.record, "consumer");
    assert_eq!(consumer.state, JobState::Failed);
    assert!(
        consumer.reason.as_deref().unwrap_or("").contains(".env"),
        "{consumer:?}"
    );
    assert_eq!(consumer.started_after_seconds, None);
}

#[tokio::test]
async fn service_healthy_waits_for_the_healthcheck_to_pass() {
    let yaml = r#"
services:
  server:
    detach: true
    command: sleep 0.3; touch "$PIPEKIT_SHARED/server/up"; exec sleep 600
    timeout: 10
    healthcheck:
      test: ["CMD-SHELL", "test -f \"$PIPEKIT_SHARED/server/up\""]
      interval: 50ms
      retries: 100
  client:
    depends_on:
      server: {condition: service_healthy}
    command: test -f "$PIPEKIT_SHARED/server/up"
"#;
    let outcome = run_yaml(yaml, None).await;
    assert_eq!(job(&outcome.record, "client").state, JobState::Passed);
    assert_eq!(job(&outcome.record, "server").state, JobState::Passed);
}

#[tokio::test]
async fn a_healthcheck_that_keeps_failing_fails_the_job_and_skips_its_dependent() {
    let yaml = r#"
services:
  server:
    detach: true
    command: sleep 600
    timeout: 10
    healthcheck:
      test: ["CMD", "false"]
      interval: 20ms
      retries: 2
  client:
    depends_on: [server.Healthy]
    command: "true"
"#;
    let outcome = run_yaml(yaml, None).await;
    let server = job(&outcome.record, "server");
    assert_eq!(server.state, JobState::Failed);
    assert_eq!(
        server.reason.as_deref(),
        Some("healthcheck failed 2 times in a row")
    );
    let client = job(&outcome.record, "client");
    assert_eq!(client.state, JobState::Skipped);
    assert!(
        client
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("server.Healthy"),
        "{client:?}"
    );
}

#[tokio::test]
async fn run_json_is_the_fold_of_events_jsonl_read_back() {
    let yaml = r#"
services:
  server:
    command: sh -c 'mkdir -p out; echo "<testsuites/>" > out/server.xml; echo listening; sleep 600'
    detach: true
    junit: [out/*.xml]
    signals:
      ready: Grep(stdout, "listening")
  client:
    depends_on: [server.ready]
    command: sh -c 'exit 3'
  after:
    depends_on: [client.ExitCode(0)]
    command: "true"
"#;
    let outcome = run_yaml(yaml, None).await;
    let replayed = Recorder::replay(&outcome.events_jsonl).expect("events read back");
    assert_eq!(replayed, outcome.record);
    assert_eq!(job(&replayed, "client").exit_code, Some(3));
    assert_eq!(job(&replayed, "after").state, JobState::Skipped);
    let server = job(&replayed, "server");
    assert_eq!(server.junit_files.len(), 1, "{server:?}");
    assert!(server.junit_files[0].ends_with("out/server.xml"));
    assert!(server.signals[0].fired_after_seconds.is_some());
    assert_eq!(replayed.status, crate::report::RunStatus::Failed);
}

/// (conditions named, conditions not named) of each wait reported for `job`.
fn waits(events: &[RunEvent], pipeline_job: usize) -> Vec<(usize, usize)> {
    events
        .iter()
        .filter_map(|event| match event {
            RunEvent::JobWaiting { job, on, more } if job.0 == pipeline_job => {
                Some((on.len(), *more))
            }
            _ => None,
        })
        .collect()
}

const FAN_IN: &str = "services:\n  a0: {command: \"true\"}\n  a1: {command: \"true\"}\n  \
a2: {command: \"true\"}\n  a3: {command: \"true\"}\n  a4: {command: \"true\"}\n  \
a5: {command: \"true\"}\n  last:\n    command: \"true\"\n    depends_on: [a0.ExitCode(0), \
a1.ExitCode(0), a2.ExitCode(0), a3.ExitCode(0), a4.ExitCode(0), a5.ExitCode(0)]\n";

#[tokio::test]
async fn a_wait_is_reported_when_it_begins_and_once_it_can_be_named_in_full() {
    let outcome = run_yaml(FAN_IN, None).await;
    assert_eq!(job(&outcome.record, "last").state, JobState::Passed);
    // Six pending: three named and three more; then only from three left on.
    assert_eq!(waits(&outcome.events, 6), [(3, 3), (3, 0), (2, 0), (1, 0)]);
}

#[tokio::test]
async fn a_reporter_that_shows_every_wait_gets_every_change() {
    let outcome = run_collected(FAN_IN, None, Collector(Default::default(), true)).await;
    assert_eq!(
        waits(&outcome.events, 6),
        [(3, 3), (3, 2), (3, 1), (3, 0), (2, 0), (1, 0)]
    );
}
