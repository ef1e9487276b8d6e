//! The run page's buttons, as plain form posts (they work without the script): cancel a
//! run, run it again. Each answers with a redirect to the run it leaves the user on.

use super::page_error::PageError;
use crate::api::runs::{may_change, run_id};
use crate::queue_runner::QueueRunner;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::Redirect;
use std::net::SocketAddr;
use std::sync::Arc;

pub(super) async fn cancel(
    State(runner): State<Arc<QueueRunner>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Redirect, PageError> {
    may_change(&client)?;
    let id = run_id(&id)?;
    runner.cancel(id)?;
    Ok(Redirect::to(&format!("/runs/{id}")))
}

pub(super) async fn rerun(
    State(runner): State<Arc<QueueRunner>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Redirect, PageError> {
    may_change(&client)?;
    let id = run_id(&id)?;
    let again = runner.rerun(id)?;
    Ok(Redirect::to(&format!("/runs/{again}")))
}
