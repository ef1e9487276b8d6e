//! The HTTP API of spec 8 (`/api/v1/`), `/healthz`, and JSON errors for everything else.
//! Handlers stay thin: parse, authorise, call the queue, answer.

mod api_error;
mod caller;
mod hooks;
mod login;
pub(crate) mod overview;
mod repositories;
pub(crate) mod rerun;
mod run_detail;
mod run_events;
mod run_files;
pub(crate) mod run_folder;
mod run_view;
pub(crate) mod runs;

pub use api_error::ApiError;
pub use caller::{Caller, Identity};
pub use run_detail::{JobView, RunDetail, SignalView};
pub use run_view::{RerunView, RunView};

use crate::queue_runner::QueueRunner;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;

/// The service's routes over `runner`'s queue and history.
pub fn router(runner: Arc<QueueRunner>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/login", post(login::login))
        .route("/logout", post(login::logout))
        .route("/api/v1/runs", get(runs::list).post(runs::queue))
        .route("/api/v1/runs/{id}", get(runs::show))
        .route("/api/v1/runs/{id}/cancel", post(runs::cancel))
        .route("/api/v1/runs/{id}/rerun", post(rerun::rerun))
        .route("/api/v1/runs/{id}/events", get(run_events::events))
        .route("/api/v1/runs/{id}/jobs/{job}/log", get(run_files::log))
        .route("/api/v1/runs/{id}/junit.xml", get(run_files::junit))
        .route(
            "/api/v1/runs/{id}/artifacts/{job}",
            get(run_files::artifact),
        )
        .route("/api/v1/queue", get(overview::queue))
        .route("/api/v1/repositories", get(repositories::list))
        .route(
            "/hooks/{repository}",
            post(hooks::push).layer(DefaultBodyLimit::max(hooks::MAX_BODY)),
        )
        .route("/badge/{repository}/{*branch}", get(overview::badge))
        .route("/metrics", get(overview::metrics))
        .merge(crate::web::routes())
        .fallback(|| async { ApiError::NotFound("no such page".to_owned()) })
        .with_state(runner)
}
