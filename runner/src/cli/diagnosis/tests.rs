//! Snapshots of the end of a run as stderr shows it: the summary table and the diagnosis.

use super::*;
use crate::report::{JobRecord, RunStatus};

fn job(name: &str, state: JobState, duration: Option<f64>, reason: Option<&str>) -> JobRecord {
    JobRecord {
        name: name.to_owned(),
        state,
        exit_code: None,
        started_after_seconds: duration.map(|_| 0.0),
        duration_seconds: duration,
        reason: reason.map(str::to_owned),
        signals: Vec::new(),
        log: format!("logs/{name}.log"),
        artifact: None,
        junit_files: Vec::new(),
    }
}

fn record(jobs: Vec<JobRecord>) -> RunRecord {
    RunRecord {
        run_id: "20261203-103000-000-abcd".to_owned(),
        pipeline: "ci".to_owned(),
        pipeline_file: "pipekit.yml".to_owned(),
        started_at: "2026-12-03T10:30:00.000Z".to_owned(),
        duration_seconds: 12.5,
        status: RunStatus::Failed,
        commit: None,
        jobs,
    }
}

fn failed_run() -> RunRecord {
    record(vec![
        job("database", JobState::Passed, Some(4.0), None),
        job("build", JobState::Passed, Some(123.456), None),
        job(
            "integration-tests",
            JobState::Failed,
            Some(0.5),
            Some("exited with code 3"),
        ),
        job(
            "deploy",
            JobState::Skipped,
            None,
            Some("`integration-tests.ExitCode(0)` can no longer hold"),
        ),
        job("lint", JobState::Cancelled, Some(1.0), Some("--fail-fast")),
    ])
}

#[test]
fn summary_table_has_a_row_per_job_in_every_state() {
    let mut run = failed_run();
    // Only in a record written mid-run, but the table must still say something.
    run.jobs.push(job("late", JobState::Waiting, None, None));
    run.jobs.push(job("slow", JobState::Running, None, None));
    insta::assert_snapshot!(summary_table(&run));
}

#[test]
fn summary_table_is_at_least_as_wide_as_its_heading() {
    let run = record(vec![job("a", JobState::Passed, Some(0.004), None)]);
    insta::assert_snapshot!(summary_table(&run));
}

#[test]
fn diagnosis_shows_the_failed_jobs_log_tail_and_what_it_kept_from_running() -> std::io::Result<()> {
    let run_dir = tempfile::tempdir()?;
    std::fs::create_dir_all(run_dir.path().join("logs"))?;
    let log: String = (1..=12).map(|n| format!("test {n} ok\n")).collect();
    std::fs::write(
        run_dir.path().join("logs/integration-tests.log"),
        format!("{log}test 13 FAILED\n"),
    )?;
    let diagnosis = diagnosis(&failed_run(), run_dir.path());
    insta::assert_snapshot!(diagnosis.unwrap_or_default());
    Ok(())
}

#[test]
fn a_run_without_failures_has_no_diagnosis() {
    let run = record(vec![job("a", JobState::Passed, Some(1.0), None)]);
    assert_eq!(diagnosis(&run, std::path::Path::new("/nonexistent")), None);
}
