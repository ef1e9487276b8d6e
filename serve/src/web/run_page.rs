//! `/runs/{id}`: one run — its state, its failed tests first, its job graph and timeline,
//! each job's state, time and reason (why it waits, why it failed), its artifacts, and the
//! buttons to cancel or run it again. The script redraws the page as its events come.

use super::job_graph::job_graph;
use super::page_error::{PageError, rendered};
use super::run_facts::{JobFacts, RunFacts};
use super::run_line::{RunLine, duration};
use super::timeline::timeline;
use crate::api::Caller;
use crate::api::run_folder::FoundRun;
use crate::queue_runner::QueueRunner;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use pipekit_runner::report::TestFailure;
use pipekit_runner::run::Timestamp;
use std::sync::Arc;
use std::time::SystemTime;

#[derive(Template)]
#[template(path = "run.html")]
struct RunPage {
    run: RunLine,
    going_on: bool,
    /// It ended with jobs that did not pass, and left a folder to reuse the others from.
    has_failed_jobs: bool,
    /// Where the page's event stream resumes: after the events drawn.
    cursor: String,
    csrf: String,
    problem: Option<String>,
    failures: Vec<TestFailure>,
    tests_failed: u64,
    tests_total: u64,
    has_report: bool,
    graph: String,
    timeline: String,
    jobs: Vec<JobRow>,
}

struct JobRow {
    name: String,
    state: &'static str,
    exit_code: String,
    took: String,
    why: String,
    artifact: Option<String>,
}

pub(super) async fn page(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    caller.may_read()?;
    let found = FoundRun::find(&runner, &id)?;
    let tests = found.tests().await;
    let facts = match found.folder.clone() {
        Some(folder) => tokio::task::spawn_blocking(move || RunFacts::read(&folder))
            .await
            .unwrap_or_default(),
        None => RunFacts::default(),
    };
    let now = Timestamp::from_system_time(SystemTime::now());
    let run_id = found.row.id;
    let graph = job_graph(&facts, |job| format!("/runs/{run_id}/jobs/{job}"));
    let going_on = !found.row.state.is_finished();
    let has_failed_jobs = !going_on
        && found.folder.is_some()
        && facts
            .jobs
            .iter()
            .any(|job| matches!(job.state, "failed" | "skipped" | "cancelled"));
    let page = RunPage {
        going_on,
        has_failed_jobs,
        cursor: format!("e={}@{}", facts.events_read.0, facts.events_read.1),
        csrf: caller.csrf_token().unwrap_or_default().to_owned(),
        problem: found.row.problem.clone(),
        tests_failed: tests.as_ref().map_or(0, |tests| tests.failed),
        tests_total: tests
            .as_ref()
            .map_or(0, |tests| tests.passed + tests.failed + tests.skipped),
        has_report: tests.is_some(),
        failures: tests.map(|tests| tests.failures).unwrap_or_default(),
        timeline: timeline(&facts, now),
        graph,
        jobs: facts.jobs.iter().map(|job| job_row(job, now)).collect(),
        run: RunLine::from(found.row),
    };
    rendered(&page)
}

fn job_row(job: &JobFacts, now: Timestamp) -> JobRow {
    let why = match (&job.reason, job.waits_on.is_empty()) {
        (Some(reason), _) => reason.clone(),
        (None, false) => format!("waiting on {}", job.waits_on.join(", ")),
        (None, true) => String::new(),
    };
    JobRow {
        name: job.name.clone(),
        state: job.state,
        exit_code: job
            .exit_code
            .map_or_else(String::new, |code| code.to_string()),
        took: job.started.map_or_else(String::new, |started| {
            duration(job.finished.unwrap_or(now).seconds_since(started))
        }),
        why,
        artifact: job.artifact_bytes.map(|bytes| match bytes {
            0..1024 => format!("{bytes} B"),
            1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
            _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
        }),
    }
}
