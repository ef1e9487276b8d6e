//! The envelope: numbering, times, masking, and the record folded from what was written.

use super::*;
use crate::scheduler::Outcome;
use pipekit_schema::{Source, parse};
use serde_json::Value;

const SECRET: &str = "hunter2hunter2";

struct Fixture {
    log: EventLog,
    recorder: Recorder,
    folder: Arc<RunFolder>,
    _dir: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = Source {
        name: "pipekit.yml".into(),
        text: "services:\n  db:\n    command: db\n    signals:\n      ready: Exists(\"db/up\")\n  \
               app:\n    command: app\n    depends_on: [db.ready]\n"
            .into(),
    };
    let pipeline = parse(&source).expect("valid pipeline").pipeline;
    let folder = Arc::new(RunFolder::create(dir.path(), &["db", "app"]).expect("run folder"));
    let recorder = Recorder::default();
    let masker = Arc::new(Masker::new([SECRET]).expect("masker"));
    let header = RunHeader {
        pipeline_file: "pipekit.yml".into(),
        commit: None,
    };
    let log = EventLog::create(
        folder.clone(),
        &pipeline,
        |_| true,
        header,
        masker,
        recorder.clone(),
    )
    .expect("events.jsonl");
    Fixture {
        log,
        recorder,
        folder,
        _dir: dir,
    }
}

impl Fixture {
    fn send(&mut self, event: RunEvent) {
        self.log.on_event(Duration::ZERO, &event);
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.folder.root().join(EVENTS_FILE)).expect("events.jsonl")
    }

    fn lines(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }
}

/// A short run: `db` fires its signal and fails, quoting the secret; `app` is skipped.
fn a_failing_run(fixture: &mut Fixture) {
    let (db, app) = (JobId(0), JobId(1));
    fixture.send(RunEvent::RunStarted {
        run_id: fixture.folder.id().into(),
        run_dir: fixture.folder.root().into(),
    });
    fixture.send(RunEvent::JobWaiting {
        job: app,
        on: vec!["db.ready".into()],
        more: 0,
    });
    fixture.send(RunEvent::JobStarted { job: db });
    fixture.send(RunEvent::Output {
        job: db,
        stream: pipekit_schema::Stream::Stdout,
        line: "not an event".into(),
    });
    fixture.send(RunEvent::SignalFired {
        job: db,
        signal: "ready".into(),
    });
    fixture.send(RunEvent::JobFinished {
        job: db,
        outcome: Outcome::Failed(crate::scheduler::FailReason::StartFailed {
            message: format!("login as {SECRET} refused"),
        }),
        exit: Some(crate::scheduler::JobExit::Code(1)),
    });
    fixture.send(RunEvent::JobFinished {
        job: app,
        outcome: Outcome::Skipped(crate::scheduler::SkipReason::ConditionNever {
            job: "db".into(),
            condition: "db.ready".into(),
            why: crate::scheduler::NeverReason::Skipped,
        }),
        exit: None,
    });
    fixture.send(RunEvent::RunFinished { interrupted: false });
}

#[test]
fn events_are_numbered_without_gaps_timed_and_framed_by_start_and_finish() {
    let mut fixture = fixture();
    a_failing_run(&mut fixture);
    let end = fixture.log.finish();
    assert_eq!((end.status, end.exit_code), (RunStatus::Failed, 1));

    let lines = fixture.lines();
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "job_waiting",
            "job_started",
            "signal_fired",
            "job_finished",
            "job_finished",
            "run_finished"
        ]
    );
    let mut previous = None;
    for (index, line) in lines.iter().enumerate() {
        assert_eq!(line["seq"], index, "{line}");
        assert_eq!(line["run"], fixture.folder.id(), "{line}");
        let at = line["at"].as_str().and_then(Timestamp::parse);
        assert!(at.is_some(), "not RFC 3339 with milliseconds: {line}");
        assert!(previous <= at, "time went backwards at {line}");
        previous = at;
    }
    assert_eq!(lines[0]["jobs"][0]["signals"][0], "ready");
    assert_eq!(lines[2]["attempt"], 1);
    assert_eq!(lines[5]["reason"]["kind"], "condition_never");
    assert_eq!(lines[5]["reason"]["condition"], "db.ready");
    assert_eq!(lines[6]["status"], "failed");
    assert_eq!(lines[6]["exit_code"], 1);
}

#[test]
fn a_secret_in_a_reason_is_masked_in_the_line_and_in_the_record() {
    let mut fixture = fixture();
    a_failing_run(&mut fixture);
    let end = fixture.log.finish();
    let text = fixture.text();
    assert!(!text.contains(SECRET), "{text}");
    let finished = &fixture.lines()[4];
    assert_eq!(finished["reason"]["text"], "login as *** refused");
    assert_eq!(finished["reason"]["kind"], "failed");
    assert_eq!(finished["exit_code"], 1);
    assert_eq!(
        end.record.jobs[0].reason.as_deref(),
        Some("login as *** refused")
    );
}

#[test]
fn the_record_read_back_from_the_file_is_the_live_one() {
    let mut fixture = fixture();
    a_failing_run(&mut fixture);
    let end = fixture.log.finish();
    let replayed = Recorder::replay(&fixture.text()).expect("events read back");
    assert_eq!(replayed, end.record);
    assert_eq!(replayed, fixture.recorder.snapshot());
    // What a kill -9 leaves, half a line, is left out.
    let cut = format!("{}{{\"seq\": 7, \"at", fixture.text());
    assert_eq!(
        Recorder::replay(&cut).expect("events read back"),
        end.record
    );
}

#[test]
fn reports_are_written_from_the_record_the_last_line_gives() {
    let mut fixture = fixture();
    a_failing_run(&mut fixture);
    let mut written = None;
    let (end, reports) = fixture.log.finish_with_reports(|record| {
        written = Some(record.clone());
        Ok::<(), String>(())
    });
    assert!(reports.is_ok());
    assert_eq!(written, Some(end.record.clone()));
    assert_eq!(end.record.status, RunStatus::Failed);
}

#[test]
fn reports_that_cannot_be_written_end_the_run_errored() {
    let mut fixture = fixture();
    a_failing_run(&mut fixture);
    let (end, reports) = fixture
        .log
        .finish_with_reports(|_| Err("failed to write `run.json`: No space left"));
    assert!(reports.is_err());
    assert_eq!((end.status, end.exit_code), (RunStatus::Errored, 3));
    assert_eq!(end.record.status, RunStatus::Errored);
    let lines = fixture.lines();
    let last = lines.len() - 1;
    assert_eq!(lines[last - 1]["kind"], "run_problem");
    assert_eq!(lines[last - 1]["problem"], "reports");
    assert_eq!(lines[last]["kind"], "run_finished");
    assert_eq!(lines[last]["status"], "errored");
    assert_eq!(lines[last]["exit_code"], 3);
    assert_eq!(lines[last]["seq"], last);
}

#[test]
fn a_problem_makes_the_run_errored_and_nothing_follows_run_finished() {
    let mut fixture = fixture();
    a_failing_run(&mut fixture);
    fixture
        .log
        .problem(ProblemKind::EngineLost, "the container engine was lost");
    let end = fixture.log.finish();
    assert_eq!((end.status, end.exit_code), (RunStatus::Errored, 3));
    fixture.send(RunEvent::JobStarted { job: JobId(1) });
    fixture.log.problem(ProblemKind::WriteFailure, "late");
    let lines = fixture.lines();
    assert_eq!(lines[lines.len() - 1]["kind"], "run_finished");
    assert_eq!(lines[lines.len() - 2]["problem"], "engine_lost");
}

#[test]
fn an_interrupted_run_says_so() {
    let mut fixture = fixture();
    fixture.send(RunEvent::RunFinished { interrupted: true });
    let end = fixture.log.finish();
    assert_eq!((end.status, end.exit_code), (RunStatus::Interrupted, 130));
}

#[test]
fn a_stopped_job_s_exit_code_is_not_its_own() {
    let mut fixture = fixture();
    fixture.send(RunEvent::JobStarted { job: JobId(0) });
    fixture.send(RunEvent::JobStopping {
        job: JobId(0),
        reason: "interrupted".into(),
    });
    fixture.send(RunEvent::JobFinished {
        job: JobId(0),
        outcome: Outcome::Cancelled(crate::scheduler::CancelReason::Interrupt),
        exit: Some(crate::scheduler::JobExit::Code(143)),
    });
    let lines = fixture.lines();
    let finished = &lines[lines.len() - 1];
    assert_eq!(finished["kind"], "job_finished");
    assert_eq!(finished["state"], "cancelled");
    assert_eq!(finished["exit_code"], Value::Null);
    assert_eq!(finished["reason"]["kind"], "interrupted");
}

#[test]
fn a_wide_fan_in_is_said_once_and_again_once_it_can_be_named_in_full() {
    let mut fixture = fixture();
    for more in [5, 4, 3, 0] {
        fixture.send(RunEvent::JobWaiting {
            job: JobId(1),
            on: vec!["db.ready".into()],
            more,
        });
    }
    let lines = fixture.lines();
    let more: Vec<&Value> = lines
        .iter()
        .filter(|line| line["kind"] == "job_waiting")
        .map(|line| &line["more"])
        .collect();
    assert_eq!(more, [5, 0]);
}
