//! `junit.xml`: one test case per job, plus the JUnit files the jobs wrote themselves.

use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::ReportError;
use super::junit_log::{last_lines, read_log_tail, sanitize};
use super::merged_junit_file::merged_suites;
use super::run_record::{JobRecord, JobState, RunRecord};

/// How many log lines a `<failure>` repeats, so the reason is readable without the full output.
const FAILURE_TAIL_LINES: usize = 50;

/// Renders the JUnit report of a finished run; `run_dir` is where the record's log paths start.
pub fn junit_report(record: &RunRecord, run_dir: &Path) -> Result<String, ReportError> {
    let pipeline = sanitize(&record.pipeline);
    let mut report = Report::new(pipeline.as_str());
    report.set_time(seconds(record.duration_seconds));

    let mut suite = TestSuite::new(pipeline.as_str());
    suite.set_time(seconds(record.duration_seconds));
    suite.add_property(Property::new("pipekit.run_id", sanitize(&record.run_id)));
    suite.add_property(Property::new(
        "pipekit.started_at",
        sanitize(&record.started_at),
    ));
    if let Some(commit) = &record.commit {
        suite.add_property(Property::new("pipekit.commit", sanitize(&commit.sha)));
        if let Some(branch) = &commit.branch {
            suite.add_property(Property::new("pipekit.branch", sanitize(branch)));
        }
        if let Some(dirty) = commit.dirty {
            suite.add_property(Property::new("pipekit.dirty", dirty.to_string()));
        }
        if commit.staged {
            suite.add_property(Property::new("pipekit.staged", "true"));
        }
    }
    for job in &record.jobs {
        let log = if job.log.is_empty() {
            String::new()
        } else {
            let path = run_dir.join(&job.log);
            read_log_tail(&path).map_err(|source| ReportError::ReadLog { path, source })?
        };
        suite.add_test_case(job_test_case(&pipeline, job, &log));
    }
    report.add_test_suite(suite);

    for job in &record.jobs {
        for file in &job.junit_files {
            report.add_test_suites(merged_suites(job, Path::new(file)));
        }
    }
    Ok(report.to_string()?)
}

fn job_test_case(pipeline: &str, job: &JobRecord, log: &str) -> TestCase {
    let reason = job.reason.as_deref().map(sanitize);
    // A passing case has no message: a passed job's reason (reused from an earlier run,
    // left running) is kept as a property.
    let passed_because = reason.clone().filter(|_| job.state == JobState::Passed);
    let status = match job.state {
        JobState::Passed => TestCaseStatus::success(),
        JobState::Failed => {
            let message = reason.unwrap_or_else(|| match job.exit_code {
                Some(code) => format!("exited with code {code}"),
                None => "failed".to_owned(),
            });
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(message);
            if !log.is_empty() {
                status.set_description(last_lines(log, FAILURE_TAIL_LINES));
            }
            status
        }
        JobState::Skipped => skipped(reason.unwrap_or_else(|| "skipped".to_owned())),
        JobState::Cancelled => skipped(match reason {
            Some(reason) => format!("cancelled: {reason}"),
            None => "cancelled".to_owned(),
        }),
        // A record written after the run should not hold these; if one does, the job
        // never produced a verdict, which is what `skipped` means to a JUnit reader.
        JobState::Waiting => skipped("never started".to_owned()),
        JobState::Running => skipped("never finished".to_owned()),
    };
    let mut test_case = TestCase::new(sanitize(&job.name), status);
    test_case
        .set_classname(pipeline)
        .set_time(seconds(job.duration_seconds.unwrap_or(0.0)));
    if let Some(reason) = passed_because {
        test_case.add_property(Property::new("pipekit.reason", reason));
    }
    if !log.is_empty() {
        test_case.set_system_out(log);
    }
    test_case
}

fn skipped(message: String) -> TestCaseStatus {
    let mut status = TestCaseStatus::skipped();
    status.set_message(message);
    status
}

/// Seconds as a `Duration`; negative or non-finite values (a clock gone wrong) become zero.
fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or_default()
}

#[cfg(test)]
mod tests;
