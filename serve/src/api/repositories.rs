//! `GET /api/v1/repositories`: the served repositories, the branches they have runs of, and
//! why the last read of one failed (until a read works again): a repository that cannot be
//! read is shown and tried again at its next poll, while the others are served as before.

use super::api_error::ApiError;
use super::caller::Caller;
use crate::queue_runner::QueueRunner;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) async fn list(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    caller.may_read()?;
    let problems = runner.read_problems();
    let mut repositories = Vec::new();
    for (name, path) in &runner.service().repositories {
        let branches = runner.store().branches(name)?;
        let problem = problems
            .get(name)
            .map(|problem| json!({ "text": problem.text, "at": problem.at }));
        repositories.push(json!({
            "name": name,
            "path": path.display().to_string(),
            // Set for a repository elsewhere, whose `path` is its mirror here.
            "mirror_of": runner.service().mirrors.get(name).map(|mirror| mirror.url()),
            "branches": branches,
            "problem": problem,
        }));
    }
    Ok(Json(json!({ "repositories": repositories })))
}
