//! `POST /hooks/{repository}`: what a push tells the server. So far the post-receive hook's
//! notice (`X-Pipekit-Event: push`, from this machine); forges' webhooks come with their
//! secrets in the config (issue 11).

use super::api_error::ApiError;
use crate::error_chain::error_chain;
use crate::poller::queue_push;
use crate::queue_runner::QueueRunner;
use crate::store::Trigger;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use pipekit_runner::commit_test::PushEvent;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

/// The refs a push moved, as git's post-receive has them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PushNotice {
    updates: Vec<NoticedUpdate>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticedUpdate {
    #[serde(rename = "ref")]
    reference: String,
    before: String,
    after: String,
}

/// 202 `{"queued": [ids]}`: one run per pipeline file of each pushed commit its `on:`
/// takes (none for a deleted ref, or for what was queued before).
pub(super) async fn push(
    State(runner): State<Arc<QueueRunner>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(repository): Path<String>,
    headers: HeaderMap,
    body: Result<Json<PushNotice>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let event = headers
        .get("x-pipekit-event")
        .and_then(|value| value.to_str().ok());
    if event != Some("push") {
        return Err(ApiError::BadRequest(
            "only pipekit-ci's own push notices (X-Pipekit-Event: push) are taken so far; \
             forge webhooks need a configured secret, which is not supported yet"
                .to_owned(),
        ));
    }
    // The notice carries no secret: it must come from the machine that has the repository.
    super::runs::may_change(&client)?;
    if !runner.service().repositories.contains_key(&repository) {
        return Err(ApiError::NotFound(format!("no repository `{repository}`")));
    }
    let Json(notice) = body.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    let queued = tokio::task::spawn_blocking(move || {
        let mut queued = Vec::new();
        for update in notice.updates {
            let deleted = update.after.chars().all(|c| c == '0');
            let tested = ["refs/heads/", "refs/tags/"]
                .iter()
                .any(|prefix| update.reference.starts_with(prefix));
            if deleted || !tested {
                continue;
            }
            let push = PushEvent::new(update.reference, Some(update.before));
            let ids = queue_push(&runner, &repository, &push, &update.after, Trigger::Hook)
                .map_err(|error| ApiError::Unprocessable(error_chain(&error)))?;
            queued.extend(ids);
        }
        Ok::<_, ApiError>(queued)
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))??;
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": queued }))))
}
