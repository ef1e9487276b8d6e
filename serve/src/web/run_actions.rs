//! The run page's buttons, as plain form posts (they work without the script): cancel a
//! run, run it again, run its failed jobs again. Each answers with a redirect to the run
//! it leaves the user on.

use super::page_error::PageError;
use crate::api::Caller;
use crate::api::rerun::{RerunRequest, queue_rerun};
use crate::api::runs::run_id;
use crate::queue_runner::QueueRunner;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;
use serde::Deserialize;
use std::sync::Arc;

/// What a button's form sends: the CSRF token of a signed-in user's page.
#[derive(Debug, Deserialize)]
pub(super) struct ActionForm {
    csrf: Option<String>,
}

pub(super) async fn cancel(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    caller.may_change_with_form(form.csrf.as_deref())?;
    let id = run_id(&id)?;
    runner.cancel(id)?;
    Ok(Redirect::to(&format!("/runs/{id}")))
}

pub(super) async fn rerun(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    caller.may_change_with_form(form.csrf.as_deref())?;
    let id = run_id(&id)?;
    let again = runner.rerun(id, None)?;
    Ok(Redirect::to(&format!("/runs/{again}")))
}

/// The failed jobs and what depends on them, the others reused, as the API's
/// `{"failed": true}`.
pub(super) async fn rerun_failed(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    caller.may_change_with_form(form.csrf.as_deref())?;
    let again = queue_rerun(&runner, &id, RerunRequest::failed()).await?;
    Ok(Redirect::to(&format!("/runs/{again}")))
}
