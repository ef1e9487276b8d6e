//! Snapshots of the console's plain output (stderr not a terminal, or `--no-progress`):
//! what a CI log shows for each kind of event.

use super::*;
use crate::scheduler::{CancelReason, FailReason, JobExit, NeverReason, SkipReason};
use pipekit_schema::{JobId, Stream};
use std::path::PathBuf;

fn pipeline(text: &str) -> Arc<Pipeline> {
    let source = pipekit_schema::Source {
        name: "pipekit.yml".to_owned(),
        text: text.to_owned(),
    };
    match pipekit_schema::parse(&source) {
        Ok(parsed) => Arc::new(parsed.pipeline),
        Err(diagnostics) => panic!("{diagnostics}"),
    }
}

/// What the console has to write after `events`, without writing it to the test's stderr.
fn plain_output(pipeline: Arc<Pipeline>, events: &[RunEvent]) -> String {
    let mut console = Console::new(pipeline, false);
    for (index, event) in events.iter().enumerate() {
        console.on_event(Duration::from_millis(index as u64 * 10), event);
    }
    std::mem::take(&mut console.pending)
}

const PIPELINE: &str = r#"
services:
  database:
    command: echo ready
    signals:
      ready: Grep(stdout, "ready")
  build:
    image: busybox
    command: echo built
    artifacts: [out]
  web-tests:
    depends_on: [database.ready, build.ExitCode(0)]
    command: exit 3
  deploy:
    depends_on: [web-tests.ExitCode(0)]
    command: echo deployed
"#;

const DATABASE: JobId = JobId(0);
const BUILD: JobId = JobId(1);
const WEB_TESTS: JobId = JobId(2);
const DEPLOY: JobId = JobId(3);

fn line(job: JobId, stream: Stream, text: &str) -> RunEvent {
    RunEvent::Output {
        job,
        stream,
        line: text.to_owned(),
    }
}

#[test]
fn plain_output_of_a_failing_run() {
    let events = [
        RunEvent::RunStarted {
            run_id: "20261203-103000-000-abcd".to_owned(),
            run_dir: PathBuf::from(".pipekit/runs/20261203-103000-000-abcd"),
        },
        RunEvent::JobWaiting {
            job: WEB_TESTS,
            on: vec!["database.ready".to_owned()],
            more: 1,
        },
        RunEvent::JobWaiting {
            job: DEPLOY,
            on: vec!["web-tests.ExitCode(0)".to_owned()],
            more: 0,
        },
        RunEvent::JobStarted { job: DATABASE },
        RunEvent::JobPreparing {
            job: BUILD,
            text: "pulling busybox".to_owned(),
        },
        RunEvent::JobStarted { job: BUILD },
        line(DATABASE, Stream::Stdout, "ready"),
        RunEvent::SignalFired {
            job: DATABASE,
            signal: "ready".to_owned(),
        },
        // Still waiting on one condition, named now: said again.
        RunEvent::JobWaiting {
            job: WEB_TESTS,
            on: vec!["build.ExitCode(0)".to_owned()],
            more: 0,
        },
        line(BUILD, Stream::Stderr, "compiling"),
        line(BUILD, Stream::Stdout, "built"),
        RunEvent::ArtifactsPacked {
            job: BUILD,
            files: 3,
            bytes: 5 * 1024 * 1024,
            compressed_bytes: 1536,
        },
        RunEvent::JobFinished {
            job: BUILD,
            outcome: Outcome::Passed,
            exit: None,
        },
        RunEvent::JobStarted { job: WEB_TESTS },
        RunEvent::JobFinished {
            job: WEB_TESTS,
            outcome: Outcome::Failed(FailReason::ExitCode { code: 3 }),
            exit: None,
        },
        RunEvent::JobFinished {
            job: DEPLOY,
            outcome: Outcome::Skipped(SkipReason::ConditionNever {
                job: "web-tests".into(),
                condition: "web-tests.ExitCode(0)".into(),
                why: NeverReason::Exited {
                    exit: JobExit::Code(3),
                },
            }),
            exit: None,
        },
        RunEvent::JobStopping {
            job: DATABASE,
            reason: "no job needs it any more".to_owned(),
        },
        RunEvent::JobFinished {
            job: DATABASE,
            outcome: Outcome::Passed,
            exit: None,
        },
    ];
    insta::assert_snapshot!(plain_output(pipeline(PIPELINE), &events));
}

#[test]
fn plain_output_of_an_interrupted_run_with_jobs_left_running() {
    let events = [
        RunEvent::JobStarted { job: DATABASE },
        RunEvent::JobStarted { job: BUILD },
        RunEvent::ArtifactsFailed {
            job: BUILD,
            reason: "`out` is missing".to_owned(),
        },
        RunEvent::JobLeftRunning { job: DATABASE },
        RunEvent::JobFinished {
            job: BUILD,
            outcome: Outcome::Cancelled(CancelReason::Interrupt),
            exit: None,
        },
        RunEvent::JobFinished {
            job: WEB_TESTS,
            outcome: Outcome::Skipped(SkipReason::NotStarted {
                cancel: CancelReason::Interrupt,
            }),
            exit: None,
        },
    ];
    insta::assert_snapshot!(plain_output(pipeline(PIPELINE), &events));
}

/// A wide fan-in in a log: the waiting line once, then once more only when what is left
/// can be named in full.
#[test]
fn plain_output_says_waiting_once_until_the_rest_can_be_named() {
    let waiting = |first: &str, more: usize| RunEvent::JobWaiting {
        job: DEPLOY,
        on: vec![first.to_owned()],
        more,
    };
    let events = [
        waiting("database.ready", 3),
        waiting("build.ExitCode(0)", 2),
        waiting("web-tests.ExitCode(0)", 1),
        waiting("web-tests.ExitCode(0)", 0),
    ];
    insta::assert_snapshot!(plain_output(pipeline(PIPELINE), &events));
}

#[test]
fn human_bytes_picks_the_unit() {
    let cases = [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (5 * 1024 * 1024, "5.0 MiB"),
        (3 * 1024 * 1024 * 1024 * 1024, "3072.0 GiB"),
    ];
    for (bytes, expected) in cases {
        assert_eq!(human_bytes(bytes), expected, "{bytes} bytes");
    }
}
