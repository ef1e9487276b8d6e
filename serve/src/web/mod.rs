//! The web UI of spec 8: server-rendered pages (askama templates in `serve/templates/`),
//! one script and one stylesheet embedded in the binary (`serve/static/`), no build step.
//! Every page's data is also under `/api/v1/`; the script only follows live changes (the
//! run list, a run's events, a job's lines) through those same endpoints.

mod assets;
mod job_graph;
mod job_log_page;
mod login_page;
mod page_error;
mod queue_page;
mod repositories_page;
mod run_actions;
use crate::run_facts;
mod run_line;
mod run_list_page;
mod run_page;
mod svg;
mod timeline;

pub use run_list_page::url_encoded;

use crate::queue_runner::QueueRunner;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// The pages, to be merged with the API's routes.
pub fn routes() -> Router<Arc<QueueRunner>> {
    Router::new()
        .route("/", get(run_list_page::page))
        .route("/runs/{id}", get(run_page::page))
        .route("/runs/{id}/cancel", post(run_actions::cancel))
        .route("/runs/{id}/rerun", post(run_actions::rerun))
        .route("/runs/{id}/rerun-failed", post(run_actions::rerun_failed))
        .route("/runs/{id}/jobs/{job}", get(job_log_page::page))
        .route("/login", get(login_page::page))
        .route("/queue", get(queue_page::page))
        .route("/repositories", get(repositories_page::page))
        .route("/static/{file}", get(assets::asset))
}
