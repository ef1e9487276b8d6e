//! `/api/v1/runs`: the history, one run, queueing a commit by hand, cancelling.

use super::api_error::ApiError;
use super::caller::Caller;
use super::run_detail::RunDetail;
use super::run_folder::FoundRun;
use super::run_view::RunView;
use crate::error_chain::error_chain;
use crate::planned_runs::planned_runs;
use crate::poller::fetch_mirror;
use crate::queue_runner::QueueRunner;
use crate::store::{Cancelled, NewRun, RunFilter, RunState, Trigger};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use pipekit_runner::commit_test::{CommitPlan, PipelineChoice};
use pipekit_runner::git::{Revision, SourceRepo};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

type Runner = State<Arc<QueueRunner>>;

/// `GET /api/v1/runs?repository=&branch=&status=&limit=`: newest first.
pub(super) async fn list(
    State(runner): Runner,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    caller.may_read()?;
    let filter = run_filter(query)?;
    let runs: Vec<RunView> = runner
        .store()
        .runs(&filter)?
        .into_iter()
        .map(RunView::from)
        .collect();
    Ok(Json(json!({ "runs": runs })))
}

/// The filter of a run list's query parameters; an unknown one or a bad value is a 400.
pub(crate) fn run_filter(query: HashMap<String, String>) -> Result<RunFilter, ApiError> {
    let mut filter = RunFilter::default();
    for (key, value) in query {
        match key.as_str() {
            "repository" => filter.repository = Some(value),
            "branch" => filter.branch = Some(value),
            "status" => {
                filter.state = Some(RunState::parse(&value).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "no run status is called `{value}`; they are queued, running, passed, \
                         failed, errored, interrupted, cancelled and invalid"
                    ))
                })?);
            }
            "limit" => {
                let limit = value.parse::<u32>().ok().filter(|limit| *limit > 0);
                filter.limit = Some(limit.ok_or_else(|| {
                    ApiError::BadRequest(format!("limit takes a number from 1, not `{value}`"))
                })?);
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter `{other}`; the runs are filtered by repository, \
                     branch, status and limit"
                )));
            }
        }
    }
    Ok(filter)
}

/// `GET /api/v1/runs/{id}`: the run and its jobs, as its `run.json` has them so far.
pub(super) async fn show(
    State(runner): Runner,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<RunDetail>, ApiError> {
    caller.may_read()?;
    let found = FoundRun::find(&runner, &id)?;
    let record = found.record().await;
    let tests = found.tests().await;
    Ok(Json(RunDetail::new(
        RunView::from(found.row),
        record.as_ref(),
        tests,
    )))
}

/// What `POST /api/v1/runs` takes: a repository and a ref or a commit.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct QueueRequest {
    repository: String,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    commit: Option<String>,
}

/// `POST /api/v1/runs`: queues every pipeline file of the commit, by hand. 201 with the
/// first run's id and all of them.
pub(super) async fn queue(
    State(runner): Runner,
    caller: Caller,
    body: Result<Json<QueueRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.may_change()?;
    let Json(request) = body.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let revision = match (&request.git_ref, &request.commit) {
        (Some(git_ref), None) => git_ref.clone(),
        (None, Some(commit)) => commit.clone(),
        _ => {
            return Err(ApiError::BadRequest(
                "name either a ref or a commit to run".to_owned(),
            ));
        }
    };
    let Some(path) = runner
        .service()
        .repositories
        .get(&request.repository)
        .cloned()
    else {
        return Err(ApiError::NotFound(format!(
            "no repository `{}`",
            request.repository
        )));
    };
    // The repository is read off the runtime's threads: it may be large, and cannot move
    // between threads while in use.
    let repository = request.repository.clone();
    let git_ref = request.git_ref.clone();
    let fetching = runner.clone();
    let runs = tokio::task::spawn_blocking(move || {
        // A repository elsewhere: the ref named is the origin's as it is now.
        fetch_mirror(&fetching, &repository)
            .map_err(|error| ApiError::BadGateway(error_chain(&error)))?;
        plan_runs(&path, &repository, &revision, git_ref)
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))??;
    let mut ids = Vec::with_capacity(runs.len());
    for run in &runs {
        if let Some(id) = runner.enqueue(run)? {
            ids.push(id);
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": ids.first(), "ids": ids })),
    ))
}

/// The runs of every pipeline file of the commit `revision` names, as a person asks for
/// them: `on:` decides pushes only.
fn plan_runs(
    path: &std::path::Path,
    repository: &str,
    revision: &str,
    git_ref: Option<String>,
) -> Result<Vec<NewRun>, ApiError> {
    let repo =
        SourceRepo::open(path, false).map_err(|error| ApiError::Internal(error_chain(&error)))?;
    let plan = CommitPlan::read(
        &repo,
        &Revision::Commit(revision.to_owned()),
        None,
        &PipelineChoice::All,
    )
    .map_err(|error| ApiError::Unprocessable(error_chain(&error)))?;
    if plan.files.is_empty() {
        return Err(ApiError::Unprocessable(format!(
            "{revision}: no pipekit.yml, pipekit.yaml or .pipekit/*.yml; nothing to run"
        )));
    }
    let full_ref = git_ref.map(|git_ref| match git_ref.starts_with("refs/") {
        true => git_ref,
        false => format!("refs/heads/{git_ref}"),
    });
    Ok(planned_runs(plan, repository, full_ref, Trigger::Manual))
}

/// `POST /api/v1/runs/{id}/cancel`: 202; a waiting run is dropped from the queue, a
/// running one has its jobs stopped as on Ctrl-C.
pub(super) async fn cancel(
    State(runner): Runner,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.may_change()?;
    let id = run_id(&id)?;
    let outcome = match runner.cancel(id)? {
        Cancelled::Dequeued => json!({ "id": id, "cancelled": "dequeued" }),
        Cancelled::Requested => json!({ "id": id, "cancelled": "stopping" }),
        Cancelled::AlreadyFinished(state) => {
            json!({ "id": id, "cancelled": "already finished", "status": state.as_str() })
        }
    };
    Ok((StatusCode::ACCEPTED, Json(outcome)))
}

pub(crate) fn run_id(text: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::BadRequest(format!("`{text}` is not a run id")))
}
