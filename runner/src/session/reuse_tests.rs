//! Re-runs as library calls, with real processes: the jobs asked run again, the others are
//! taken over from the earlier run folder without running.

use super::tests::{Collector, pipeline, request};
use super::*;
use crate::report::{JobState, RunStatus};
use crate::run::{EVENTS_FILE, ReasonKind};
use std::path::Path;

/// `build` counts its runs in a file outside the run folder and fires `ready`; `test`
/// needs `build.ready` and the file `build` left in the shared root, and fails until a
/// marker exists (it makes the marker, so it passes the second time); `deploy` follows.
fn flaky(counter: &Path, marker: &Path) -> String {
    format!(
        r#"
services:
  build:
    signals:
      ready: Grep(stdout, "built"):30
    command: >-
      sh -c 'echo run >> {counter}; echo app > "$PIPEKIT_SHARED/build/app";
      echo app > app.bin; echo built'
    artifacts: [app.bin]
  test:
    depends_on: [build.ExitCode(0), build.ready]
    command: >-
      sh -c 'test "$(cat "$PIPEKIT_SHARED/build/app")" = app || exit 9;
      if [ -e {marker} ]; then echo passing; else touch {marker}; exit 4; fi'
  deploy:
    depends_on: [test.ExitCode(0)]
    command: echo deployed
"#,
        counter = counter.display(),
        marker = marker.display(),
    )
}

fn state(outcome: &RunOutcome, job: &str) -> JobState {
    outcome
        .record
        .jobs
        .iter()
        .find(|known| known.name == job)
        .map(|known| known.state)
        .unwrap_or(JobState::Waiting)
}

fn runs_in(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(".pipekit/runs")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|entry| entry.path().is_dir())
            .count()
    })
}

#[tokio::test]
async fn a_rerun_of_the_failed_jobs_reuses_the_build_that_passed() {
    let dir = tempfile::tempdir().expect("tmp");
    let outside = tempfile::tempdir().expect("tmp");
    let counter = outside.path().join("build-runs");
    let p = pipeline(&flaky(&counter, &outside.path().join("marker")));

    let first = run(request(&p, dir.path(), &Collector::default()))
        .await
        .expect("first run");
    assert_eq!(first.status(), RunStatus::Failed, "{:?}", first.record);
    assert_eq!(state(&first, "test"), JobState::Failed);
    assert_eq!(state(&first, "deploy"), JobState::Skipped);

    let collector = Collector::default();
    let mut again = request(&p, dir.path(), &collector);
    again.options.reuse = Some(Reuse {
        from: first.run_dir.clone(),
        rerun: RerunSelection::Failed,
    });
    let second = run(again).await.expect("re-run");
    assert_eq!(second.status(), RunStatus::Passed, "{:?}", second.record);
    assert_eq!(
        std::fs::read_to_string(&counter).expect("counter"),
        "run\n",
        "build ran again"
    );
    let build = &second.record.jobs[0];
    assert_eq!(build.state, JobState::Passed);
    assert_eq!(build.exit_code, Some(0));
    assert_eq!(
        build.reason.as_deref(),
        Some(format!("reused from run {}", first.run_id()).as_str())
    );
    assert_eq!(build.artifact.as_deref(), Some("artifacts/build.tar.zst"));
    // Its files are in the new folder: its log and archive shared with the earlier one.
    use std::os::unix::fs::MetadataExt;
    let inode = |root: &Path| {
        std::fs::metadata(root.join("artifacts/build.tar.zst"))
            .expect("archive")
            .ino()
    };
    assert_eq!(inode(&second.run_dir), inode(&first.run_dir));
    assert_eq!(
        std::fs::read_to_string(second.run_dir.join("logs/build.log")).expect("log"),
        "built\n"
    );
    assert_eq!(
        std::fs::read_to_string(second.run_dir.join("logs/test.log")).expect("log"),
        "passing\n"
    );
    // The events say it, with the structured reason.
    let events = std::fs::read_to_string(second.run_dir.join(EVENTS_FILE)).expect("events");
    let finished: serde_json::Value = events
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|event| event["kind"] == "job_finished" && event["job"] == "build")
        .expect("build's job_finished");
    assert_eq!(finished["state"], "passed");
    assert_eq!(finished["exit_code"], 0);
    assert_eq!(finished["reason"]["kind"], "reused");
    assert_eq!(finished["reason"]["run"], first.run_id());
    assert!(
        !events.contains(r#""kind":"job_started","job":"build""#),
        "build started: {events}"
    );
    let reused = serde_json::to_value(ReasonKind::Reused).expect("json");
    assert_eq!(reused, "reused");
}

#[tokio::test]
async fn a_job_that_did_not_pass_is_not_reused() {
    let dir = tempfile::tempdir().expect("tmp");
    let outside = tempfile::tempdir().expect("tmp");
    let p = pipeline(&flaky(
        &outside.path().join("count"),
        &outside.path().join("marker"),
    ));
    let first = run(request(&p, dir.path(), &Collector::default()))
        .await
        .expect("first run");
    assert_eq!(runs_in(dir.path()), 1);

    let attempt = |rerun: RerunSelection| {
        let mut again = request(&p, dir.path(), &Collector::default());
        again.options.reuse = Some(Reuse {
            from: first.run_dir.clone(),
            rerun,
        });
        run(again)
    };
    // `deploy` alone would reuse `test`, which failed.
    let error = attempt(RerunSelection::Jobs(vec!["deploy".into()]))
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, SessionError::Reuse(ReuseError::NotPassed { job, state: "failed", .. }) if job == "test"),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), INVALID_INPUT);
    let error = attempt(RerunSelection::Jobs(vec!["nobody".into()]))
        .await
        .expect_err("refused");
    assert!(
        matches!(&error, SessionError::Reuse(ReuseError::UnknownJob { name, .. }) if name == "nobody"),
        "{error:?}"
    );
    assert_eq!(runs_in(dir.path()), 1, "a refused re-run left a run folder");

    // Passed now; nothing failed in it to run again.
    let mut again = request(&p, dir.path(), &Collector::default());
    again.options.reuse = Some(Reuse {
        from: first.run_dir.clone(),
        rerun: RerunSelection::Failed,
    });
    let second = run(again).await.expect("re-run");
    assert_eq!(second.status(), RunStatus::Passed);
    let mut again = request(&p, dir.path(), &Collector::default());
    again.options.reuse = Some(Reuse {
        from: second.run_dir.clone(),
        rerun: RerunSelection::Failed,
    });
    let error = run(again).await.expect_err("refused");
    assert!(
        matches!(
            &error,
            SessionError::Reuse(ReuseError::NothingFailed { .. })
        ),
        "{error:?}"
    );
}

/// The paper's three tier: the generator writes the password into the database's and the
/// web tier's `.env`. Re-running `web` runs the detached database again (it is not
/// running any more) but reuses the generator, whose writes come with the shared root.
#[tokio::test]
async fn a_service_a_rerun_job_needs_starts_again_with_what_reused_jobs_wrote() {
    let dir = tempfile::tempdir().expect("tmp");
    let outside = tempfile::tempdir().expect("tmp");
    let generated = outside.path().join("generated");
    let p = pipeline(&format!(
        r#"
services:
  generator:
    command: >-
      sh -c 'echo once >> {generated}; echo PASSWORD=s3cret > "$PIPEKIT_SHARED/database/.env";
      echo PASSWORD=s3cret > "$PIPEKIT_SHARED/web/.env"'
  database:
    detach: true
    signals:
      ready: Grep(stdout, "ready"):30
    depends_on: [generator.ExitCode(0)]
    command: sh -c 'test -n "$PASSWORD" || exit 3; echo ready; exec sleep 60'
  web:
    depends_on: [generator.ExitCode(0), database.ready]
    command: sh -c 'test "$PASSWORD" = s3cret'
"#,
        generated = generated.display()
    ));
    let first = run(request(&p, dir.path(), &Collector::default()))
        .await
        .expect("first run");
    assert_eq!(first.status(), RunStatus::Passed, "{:?}", first.record);

    let mut again = request(&p, dir.path(), &Collector::default());
    again.options.reuse = Some(Reuse {
        from: first.run_dir.clone(),
        rerun: RerunSelection::Jobs(vec!["web".into()]),
    });
    let second = run(again).await.expect("re-run");
    assert_eq!(second.status(), RunStatus::Passed, "{:?}", second.record);
    assert_eq!(
        std::fs::read_to_string(&generated).expect("generated"),
        "once\n"
    );
    let reasons: Vec<Option<&str>> = second
        .record
        .jobs
        .iter()
        .map(|job| {
            job.reason
                .as_deref()
                .filter(|why| why.starts_with("reused"))
        })
        .collect();
    assert!(reasons[0].is_some(), "{:?}", second.record);
    assert_eq!(reasons[1..], [None, None], "{:?}", second.record);
    assert!(
        second.run_dir.join("logs/database.log").exists(),
        "the database ran again"
    );
}
