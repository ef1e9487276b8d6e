//! Failing jobs: what gets skipped, what keeps running, how the run ends.

use crate::common::{JobState, Project, RunStatus, find_test_case, parse_junit, pipeline_suite};
use quick_junit::{NonSuccessKind, TestCaseStatus};
use std::time::Duration;

#[test]
fn failed_exit_code_condition_skips_the_dependent_and_spares_independent_branches() {
    let project = Project::new(
        r#"
services:
  a:
    command: echo "boom from a"; exit 3
  gated:
    depends_on:
      - a.ExitCode(0)
    command: touch gated-ran
  independent:
    command: echo independent
  after-independent:
    depends_on:
      - independent.ExitCode(0)
    command: echo after independent
"#,
    );

    let finished = project.run_pipeline(&["--junit", "reports/pipeline.xml"]);

    finished.assert_code(1);
    project.assert_run_folder(&["a", "gated", "independent", "after-independent"]);
    let run = project.run_json();
    assert_eq!(run.status, RunStatus::Failed);
    run.assert_states(&[
        ("a", JobState::Failed),
        ("gated", JobState::Skipped),
        ("independent", JobState::Passed),
        ("after-independent", JobState::Passed),
    ]);
    assert_eq!(run.job("a").exit_code, Some(3));
    run.assert_reason_contains("gated", &["a.ExitCode(0)"]);
    assert!(
        !project.path().join("gated-ran").exists(),
        "the skipped job ran"
    );
    assert!(
        project
            .log("after-independent")
            .contains("after independent")
    );

    let junit_path = project.run_dir().join("junit.xml");
    let report = parse_junit(&junit_path);
    let suite = pipeline_suite(&report, "pipekit");
    assert_eq!(suite.test_cases.len(), 4);
    match &find_test_case(suite, "a").status {
        TestCaseStatus::NonSuccess {
            kind: NonSuccessKind::Failure,
            message,
            description,
            ..
        } => {
            let message = message.as_ref().map(|m| m.as_str()).unwrap_or_default();
            assert!(
                message.contains('3'),
                "failure message lacks the exit code: {message:?}"
            );
            let tail = description.as_ref().map(|d| d.as_str()).unwrap_or_default();
            assert!(
                tail.contains("boom from a"),
                "failure lacks the log tail: {tail:?}"
            );
        }
        other => panic!("`a` is not a <failure>: {other:?}"),
    }
    match &find_test_case(suite, "gated").status {
        TestCaseStatus::Skipped { message, .. } => {
            let message = message.as_ref().map(|m| m.as_str()).unwrap_or_default();
            assert!(
                message.contains("a.ExitCode(0)"),
                "skipped message: {message:?}"
            );
        }
        other => panic!("`gated` is not <skipped>: {other:?}"),
    }
    for passed in ["independent", "after-independent"] {
        assert!(matches!(
            find_test_case(suite, passed).status,
            TestCaseStatus::Success { .. }
        ));
    }

    // `--junit PATH` writes the same report there too.
    let extra =
        std::fs::read_to_string(project.path().join("reports/pipeline.xml")).expect("--junit file");
    assert_eq!(
        extra,
        std::fs::read_to_string(&junit_path).expect("junit.xml")
    );
}

#[test]
fn fail_fast_cancels_running_jobs_at_the_first_failure() {
    let project = Project::new(
        r#"
services:
  long:
    command: sleep 30
  failing:
    command: sleep 0.3; exit 1
"#,
    );

    let finished = project.run_pipeline(&["--fail-fast"]);

    finished.assert_code(1);
    assert!(
        finished.elapsed < Duration::from_secs(10),
        "took {:?}",
        finished.elapsed
    );
    project.assert_run_folder(&["long", "failing"]);
    let run = project.run_json();
    run.assert_states(&[("long", JobState::Cancelled), ("failing", JobState::Failed)]);
    run.assert_reason_contains("long", &["failing"]);
}

#[test]
fn without_fail_fast_a_failure_does_not_stop_a_parallel_job() {
    let project = Project::new(
        r#"
services:
  slower:
    command: sleep 1; echo slower done
  failing:
    command: exit 1
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    project
        .run_json()
        .assert_states(&[("slower", JobState::Passed), ("failing", JobState::Failed)]);
    assert!(project.log("slower").contains("slower done"));
}

#[test]
fn job_timeout_fails_the_job_and_stops_it() {
    let project = Project::new(
        r#"
services:
  slow:
    timeout: 1
    command: sleep 30
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    assert!(
        finished.elapsed < Duration::from_secs(8),
        "took {:?}",
        finished.elapsed
    );
    let run = project.run_json();
    assert_eq!(run.state("slow"), JobState::Failed);
    run.assert_reason_contains("slow", &["timed out"]);
    let duration = run.job("slow").duration();
    assert!((0.9..8.0).contains(&duration), "slow ran for {duration}s");
}
