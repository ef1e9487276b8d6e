//! `POST /hooks/{repository}`: what a push tells the server. Forge webhooks (GitHub,
//! Gitea/Forgejo, GitLab; spec 8), signed with the repository's `webhook_secret`, and the
//! post-receive hook's notice (`X-Pipekit-Event: push`, from this machine). A repository
//! elsewhere is fetched into its mirror first: the commit pushed is the origin's, not yet
//! here.

use super::api_error::ApiError;
use crate::error_chain::error_chain;
use crate::poller::{fetch_mirror, queue_push};
use crate::queue_runner::QueueRunner;
use crate::store::Trigger;
use crate::webhook::{ForgeDelivery, ForgeEvent, ForgePush};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use pipekit_runner::commit_test::PushEvent;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

/// The largest body a hook takes: GitHub caps its payloads at 25 MB, and so do we.
pub(super) const MAX_BODY: usize = 25 * 1000 * 1000;

type Answer = Result<(StatusCode, Json<Value>), ApiError>;

/// The refs a push moved, as git's post-receive has them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PushNotice {
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
/// takes (none for a deleted ref, or for what was queued before). A forge's ping is 200.
pub(super) async fn push(
    State(runner): State<Arc<QueueRunner>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(repository): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer {
    let body =
        body.map_err(|rejection| ApiError::rejected(rejection.status(), rejection.body_text()))?;
    if !runner.service().repositories.contains_key(&repository) {
        return Err(ApiError::NotFound(format!("no repository `{repository}`")));
    }
    if let Some(delivery) = ForgeDelivery::from_headers(&headers) {
        return forge_webhook(runner, &client, repository, delivery, body).await;
    }
    let event = headers
        .get("x-pipekit-event")
        .and_then(|value| value.to_str().ok());
    if event != Some("push") {
        return Err(ApiError::BadRequest(
            "not a webhook this server knows: it takes GitHub's (X-GitHub-Event), Gitea's and \
             Forgejo's (X-Gitea-Event), GitLab's (X-Gitlab-Event) and pipekit-ci's own push \
             notices (X-Pipekit-Event: push)"
                .to_owned(),
        ));
    }
    // The notice carries no secret: it must come from the machine that has the repository.
    from_this_machine(&client, "pipekit-ci's push notices carry no secret")?;
    let notice: PushNotice = serde_json::from_slice(&body)
        .map_err(|error| ApiError::BadRequest(format!("not a push notice: {error}")))?;
    let queued = tokio::task::spawn_blocking(move || {
        fetched(&runner, &repository)?;
        let mut queued = Vec::new();
        for update in notice.updates {
            queued.extend(queue_update(
                &runner,
                &repository,
                update.reference,
                update.before,
                &update.after,
                Trigger::Hook,
            )?);
        }
        Ok::<_, ApiError>(queued)
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))??;
    Ok((StatusCode::ACCEPTED, Json(json!({ "queued": queued }))))
}

/// A forge's delivery: signed with the repository's secret (or, without one, from this
/// machine), then a ping answered, a push queued once per delivery id.
async fn forge_webhook(
    runner: Arc<QueueRunner>,
    client: &SocketAddr,
    repository: String,
    delivery: ForgeDelivery,
    body: Bytes,
) -> Answer {
    match runner.service().webhook_secrets.get(&repository) {
        Some(secret) => secret
            .verify(&delivery, &body)
            .map_err(|error| ApiError::Unauthorized(error.to_string()))?,
        // Without a secret anyone could queue runs from afar; a forge on this machine (or
        // behind a proxy on it) is trusted as the post-receive hook is.
        None => from_this_machine(
            client,
            &format!("repository `{repository}` has no `webhook_secret`"),
        )?,
    }
    let forge = delivery.forge.as_str();
    match &delivery.event {
        ForgeEvent::Push => {}
        ForgeEvent::Ping => return Ok((StatusCode::OK, Json(json!({ "pong": forge })))),
        // 200 rather than an error: the forge was told to send it, and would retry.
        ForgeEvent::Other(event) => {
            let ignored = format!("{forge} event `{event}`: only pushes are tested");
            return Ok((StatusCode::OK, Json(json!({ "ignored": ignored }))));
        }
    }
    let push = ForgePush::parse(&body).map_err(|error| ApiError::BadRequest(error.to_string()))?;
    tokio::task::spawn_blocking(move || {
        if let Some(id) = &delivery.id
            && runner.store().delivery_taken(&repository, id)?
        {
            let answer = json!({ "queued": [], "repeated_delivery": id });
            return Ok((StatusCode::ACCEPTED, Json(answer)));
        }
        fetched(&runner, &repository)?;
        let queued = queue_update(
            &runner,
            &repository,
            push.reference,
            push.before,
            &push.after,
            Trigger::Webhook,
        )?;
        // Noted only once queued: a delivery that failed here is worth the forge's retry.
        if let Some(id) = &delivery.id {
            runner
                .store()
                .take_delivery(&repository, id, SystemTime::now())?;
        }
        Ok((StatusCode::ACCEPTED, Json(json!({ "queued": queued }))))
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))?
}

/// Queues the push of `after` to `reference`; nothing for a deleted ref or for a ref that
/// is no branch or tag (`refs/pull/…`, notes).
fn queue_update(
    runner: &QueueRunner,
    repository: &str,
    reference: String,
    before: String,
    after: &str,
    trigger: Trigger,
) -> Result<Vec<i64>, ApiError> {
    let deleted = after.chars().all(|c| c == '0');
    let tested = ["refs/heads/", "refs/tags/"]
        .iter()
        .any(|prefix| reference.starts_with(prefix));
    if deleted || !tested {
        return Ok(Vec::new());
    }
    let push = PushEvent::new(reference, Some(before));
    queue_push(runner, repository, &push, after, trigger)
        .map_err(|error| ApiError::Unprocessable(error_chain(&error)))
}

/// `repository` fetched into its mirror if it has one; a 502 if its origin cannot be
/// fetched, so that a forge delivers again later (the delivery is not noted as taken).
fn fetched(runner: &QueueRunner, repository: &str) -> Result<(), ApiError> {
    fetch_mirror(runner, repository).map_err(|error| ApiError::BadGateway(error_chain(&error)))
}

/// Only clients on this machine, for what carries no secret: `why` says what.
fn from_this_machine(client: &SocketAddr, why: &str) -> Result<(), ApiError> {
    match client.ip().is_loopback() {
        true => Ok(()),
        false => Err(ApiError::Unauthorized(format!(
            "{why}, so it is taken from this machine only"
        ))),
    }
}
