//! `POST /api/v1/runs/{id}/rerun`: a run again, whole, or only its named (or failed) jobs
//! and what depends on them, the others reused from its run folder.

use super::api_error::ApiError;
use super::caller::Caller;
use super::run_folder::FoundRun;
use crate::error_chain::error_chain;
use crate::queue_runner::QueueRunner;
use crate::store::{PartialRerun, RerunJobs, RunRow};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use pipekit_runner::commit_test::{CommitPlan, FileOutcome, PipelineChoice};
use pipekit_runner::git::{Revision, SourceRepo};
use pipekit_runner::report::JobState;
use pipekit_runner::session::{RerunSelection, Reuse, ReuseError};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// What the call takes: nothing (the whole run), `{"jobs": [..]}` or `{"failed": true}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RerunRequest {
    jobs: Option<Vec<String>>,
    failed: Option<bool>,
}

impl RerunRequest {
    /// The failed jobs (and what depends on them), as the run page's button asks.
    pub(crate) fn failed() -> RerunRequest {
        RerunRequest {
            jobs: None,
            failed: Some(true),
        }
    }
}

/// 201 `{id}` of the new run of the same commit and pipeline file.
pub(super) async fn rerun(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.may_change()?;
    // Read by hand: no body at all is the whole run, and a body that is not the request
    // (bad JSON, an unknown field, `jobs` not a list) is a 400 saying why.
    let request = match body.iter().all(u8::is_ascii_whitespace) {
        true => RerunRequest::default(),
        false => serde_json::from_slice(&body).map_err(|error| {
            ApiError::BadRequest(format!(
                "the body is not a re-run request ({error}); send {{\"jobs\": [..]}}, \
                 {{\"failed\": true}} or nothing"
            ))
        })?,
    };
    let again = queue_rerun(&runner, &id, request).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": again }))))
}

/// Queues the re-run `request` asks of run `id_text`; the new run's id.
pub(crate) async fn queue_rerun(
    runner: &QueueRunner,
    id_text: &str,
    request: RerunRequest,
) -> Result<i64, ApiError> {
    let found = FoundRun::find(runner, id_text)?;
    let jobs = match (request.jobs, request.failed.unwrap_or(false)) {
        (None, false) => None,
        (Some(_), true) => {
            return Err(ApiError::BadRequest(
                "name the jobs to run again or ask for the failed ones, not both".to_owned(),
            ));
        }
        (Some(jobs), false) if jobs.is_empty() => {
            return Err(ApiError::BadRequest(
                "name at least one job to run again (or send no body to run it all)".to_owned(),
            ));
        }
        (Some(jobs), false) => Some(RerunJobs::Named(jobs)),
        (None, true) => Some(RerunJobs::Failed),
    };
    let partial = match jobs {
        Some(jobs) => {
            let partial = partial_rerun(&found, jobs).await?;
            check_reuse(runner, &found.row, &partial).await?;
            Some(partial)
        }
        None => None,
    };
    Ok(runner.rerun(found.row.id, partial)?)
}

/// What a re-run of only some jobs of `found` reuses, checked against what the run left:
/// a run folder, a finished record, the jobs named in it, something failed to run again.
async fn partial_rerun(found: &FoundRun, jobs: RerunJobs) -> Result<PartialRerun, ApiError> {
    let id = found.row.id;
    let Some(reuse_folder) = found.row.run_folder.clone() else {
        return Err(ApiError::Unprocessable(format!(
            "run {id} has no run folder to reuse jobs from (it is {}); re-run it whole",
            found.row.state
        )));
    };
    if !found.row.state.is_finished() {
        return Err(ApiError::Unprocessable(format!(
            "run {id} is {}: its jobs can be reused once it has ended",
            found.row.state
        )));
    }
    let record = found.record().await.ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "run {id} has no readable run.json to reuse jobs from; re-run it whole"
        ))
    })?;
    match &jobs {
        RerunJobs::Named(names) => {
            if let Some(unknown) = names
                .iter()
                .find(|name| !record.jobs.iter().any(|job| &job.name == *name))
            {
                let known: Vec<String> = record
                    .jobs
                    .iter()
                    .map(|job| format!("`{}`", job.name))
                    .collect();
                return Err(ApiError::BadRequest(format!(
                    "run {id} has no job `{unknown}`; its jobs are {}",
                    known.join(", ")
                )));
            }
        }
        RerunJobs::Failed => {
            if record.jobs.iter().all(|job| job.state == JobState::Passed) {
                return Err(ApiError::Unprocessable(format!(
                    "run {id} has no failed, skipped or cancelled job to run again"
                )));
            }
        }
    }
    Ok(PartialRerun { jobs, reuse_folder })
}

/// Refuses now what the run would refuse before its first job: a job to reuse that did not
/// pass (`deploy` alone would reuse a failed `test`). Decided as the run decides it, over
/// the pipeline file at the run's commit and the earlier run's events.
async fn check_reuse(
    runner: &QueueRunner,
    row: &RunRow,
    partial: &PartialRerun,
) -> Result<(), ApiError> {
    let Some(repository) = runner.service().repositories.get(&row.repository).cloned() else {
        return Err(ApiError::Unprocessable(format!(
            "the repository `{}` is not served any more",
            row.repository
        )));
    };
    let reuse = Reuse {
        from: runner
            .service()
            .runs_dir(&row.repository)
            .join(&partial.reuse_folder),
        rerun: match &partial.jobs {
            RerunJobs::Named(jobs) => RerunSelection::Jobs(jobs.clone()),
            RerunJobs::Failed => RerunSelection::Failed,
        },
    };
    let (commit, pipeline) = (row.commit.clone(), row.pipeline.clone());
    // Off the runtime's threads: the repository and the events are read from disk.
    tokio::task::spawn_blocking(move || {
        let repo = SourceRepo::open(&repository, false)
            .map_err(|error| ApiError::Internal(error_chain(&error)))?;
        let mut plan = CommitPlan::read(
            &repo,
            &Revision::Commit(commit),
            None,
            &PipelineChoice::File(pipeline.clone().into()),
        )
        .map_err(|error| ApiError::Unprocessable(error_chain(&error)))?;
        let Some(FileOutcome::Run(parsed)) = plan.files.pop().map(|file| file.outcome) else {
            return Err(ApiError::Unprocessable(format!(
                "`{pipeline}` does not validate at the run's commit: there is nothing to reuse"
            )));
        };
        reuse.check(&parsed.pipeline).map_err(|error| match error {
            ReuseError::UnknownJob { .. } => ApiError::BadRequest(error.to_string()),
            other => ApiError::Unprocessable(error_chain(&other)),
        })
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))?
}
