//! `/runs/{id}/jobs/{job}`: a job's log. The page holds no lines itself: the script asks
//! `/api/v1/…/log?tail=5000` for the last 5,000, "load earlier" for the 5,000 before, and
//! follows new ones on the run's event stream, so a log of millions of lines opens as fast
//! as a short one.

use super::page_error::{PageError, rendered};
use super::run_facts::RunFacts;
use super::run_line::RunLine;
use crate::api::Caller;
use crate::api::run_folder::FoundRun;
use crate::queue_runner::QueueRunner;
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "job_log.html")]
struct JobLogPage {
    run: RunLine,
    job: String,
    state: &'static str,
    going_on: bool,
}

pub(super) async fn page(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
    Path((id, job)): Path<(String, String)>,
) -> Result<Html<String>, PageError> {
    caller.may_read()?;
    let found = FoundRun::find(&runner, &id)?;
    let job = found.job(&job).await?;
    let facts = match found.folder.clone() {
        Some(folder) => tokio::task::spawn_blocking(move || RunFacts::read(&folder))
            .await
            .unwrap_or_default(),
        None => RunFacts::default(),
    };
    let state = facts
        .jobs
        .iter()
        .find(|known| known.name == job)
        .map_or("waiting", |known| known.state);
    let page = JobLogPage {
        going_on: !found.row.state.is_finished(),
        state,
        job,
        run: RunLine::from(found.row),
    };
    rendered(&page)
}
