//! `/queue`: the waiting runs with their place and why they wait, and the jobs of the runs
//! going on that wait, with what they wait on — the question every CI user asks first.

use super::page_error::{PageError, rendered};
use super::run_line::RunLine;
use crate::api::Caller;
use crate::api::overview::{QueueState, jobs_waiting};
use crate::queue_runner::QueueRunner;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "queue.html")]
struct QueuePage {
    slots: usize,
    running: i64,
    waiting: Vec<Waiting>,
    waiting_jobs: Vec<WaitingJob>,
}

struct Waiting {
    position: usize,
    run: RunLine,
    reason: String,
}

struct WaitingJob {
    run_id: i64,
    run_label: String,
    job: String,
    on: String,
}

pub(super) async fn page(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
) -> Result<Html<String>, PageError> {
    caller.may_read()?;
    let state = QueueState::read(&runner)?;
    let waiting_jobs = jobs_waiting(&runner)
        .await?
        .into_iter()
        .map(|job| WaitingJob {
            run_id: job.run_id,
            on: match job.waits_on.is_empty() {
                true => "starting".to_owned(),
                false => job.waits_on.join(", "),
            },
            run_label: job.run_label,
            job: job.job,
        })
        .collect();
    let page = QueuePage {
        slots: state.slots,
        running: state.running,
        waiting: state
            .waiting
            .into_iter()
            .enumerate()
            .map(|(index, row)| Waiting {
                position: index + 1,
                run: RunLine::from(row),
                reason: state.reason.clone(),
            })
            .collect(),
        waiting_jobs,
    };
    rendered(&page)
}
