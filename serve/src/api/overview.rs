//! The service at a glance: the queue with each waiting run's place and reason and each
//! waiting job's, a branch's badge, the Prometheus metrics.

use super::api_error::ApiError;
use super::caller::Caller;
use super::run_view::RunView;
use crate::queue_runner::QueueRunner;
use crate::store::{RunFilter, RunState};
use crate::waiting_jobs::{WaitingJob, waiting_jobs};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::fmt::Write;
use std::sync::Arc;

type Runner = State<Arc<QueueRunner>>;

/// `GET /api/v1/queue`: the waiting runs in the order they will start, each with its
/// position and why it waits, and the waiting jobs of the runs going on with what they
/// wait on.
pub(super) async fn queue(State(runner): Runner, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.may_read()?;
    let state = QueueState::read(&runner)?;
    let jobs: Vec<Value> = jobs_waiting(&runner)
        .await?
        .into_iter()
        .map(|job| {
            json!({
                "run": job.run_id,
                "job": job.job,
                "waiting_on": job.waits_on,
                "reason": job.reason(),
            })
        })
        .collect();
    let waiting: Vec<Value> = state
        .waiting
        .into_iter()
        .enumerate()
        .map(|(index, row)| {
            let mut run = json!(RunView::from(row));
            run["position"] = json!(index + 1);
            run["reason"] = json!(state.reason);
            run
        })
        .collect();
    Ok(Json(json!({
        "slots": state.slots,
        "running": state.running,
        "queue": waiting,
        "jobs": jobs,
    })))
}

/// The waiting jobs of the runs going on, read from their run folders.
pub async fn jobs_waiting(runner: &Arc<QueueRunner>) -> Result<Vec<WaitingJob>, ApiError> {
    let going_on = runner.store().runs(&RunFilter {
        state: Some(RunState::Running),
        ..RunFilter::default()
    })?;
    let runner = runner.clone();
    tokio::task::spawn_blocking(move || {
        waiting_jobs(&going_on, |row| {
            let folder = row.run_folder.as_ref()?;
            Some(runner.service().runs_dir(&row.repository).join(folder))
        })
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))
}

/// The queue as it stands: the waiting runs in order, and why they wait.
pub struct QueueState {
    pub waiting: Vec<crate::store::RunRow>,
    pub slots: usize,
    pub running: i64,
    pub reason: String,
}

impl QueueState {
    pub fn read(runner: &QueueRunner) -> Result<QueueState, ApiError> {
        let (waiting, counts) = {
            let store = runner.store();
            (store.queue()?, store.counts()?)
        };
        let slots = runner.service().max_runs;
        let running = counts.get("running").copied().unwrap_or(0);
        let reason = match usize::try_from(running).unwrap_or(usize::MAX) >= slots {
            true => format!("slots busy: {running} of {slots} runs going on"),
            false => "starting".to_owned(),
        };
        Ok(QueueState {
            waiting,
            slots,
            running,
            reason,
        })
    }
}

/// `GET /badge/{repository}/{branch}.svg`: the status of the branch's latest finished run
/// (`no runs` before one); branches with `/` are paths.
pub(super) async fn badge(
    State(runner): Runner,
    caller: Caller,
    Path((repository, branch)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    caller.may_read()?;
    let Some(branch) = branch.strip_suffix(".svg") else {
        return Err(ApiError::NotFound(
            "a badge is /badge/<repository>/<branch>.svg".to_owned(),
        ));
    };
    if !runner.service().repositories.contains_key(&repository) {
        return Err(ApiError::NotFound(format!("no repository `{repository}`")));
    }
    let last = runner.store().last_finished(&repository, branch)?;
    let (message, colour) = match last.map(|run| run.state) {
        Some(RunState::Passed) => ("passed", "#3fb950"),
        Some(RunState::Failed) => ("failed", "#e5534b"),
        Some(state) => (state.as_str(), "#8b949e"),
        None => ("no runs", "#8b949e"),
    };
    let headers = [
        (header::CONTENT_TYPE, "image/svg+xml"),
        // Forges and READMEs cache images: a badge must be asked for again.
        (header::CACHE_CONTROL, "no-cache, max-age=0"),
    ];
    Ok((headers, badge_svg("pipekit", message, colour)))
}

/// A flat two-part badge; widths from a 7-pixel character, as the common badges do.
fn badge_svg(label: &str, message: &str, colour: &str) -> String {
    let width = |text: &str| 10 + 7 * text.chars().count();
    let (left, right) = (width(label), width(message));
    let total = left + right;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" role=\"img\" \
         aria-label=\"{label}: {message}\"><title>{label}: {message}</title>\
         <rect width=\"{left}\" height=\"20\" fill=\"#555\"/>\
         <rect x=\"{left}\" width=\"{right}\" height=\"20\" fill=\"{colour}\"/>\
         <g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\">\
         <text x=\"5\" y=\"14\">{label}</text><text x=\"{}\" y=\"14\">{message}</text></g></svg>",
        left + 5
    )
}

/// `GET /metrics`: Prometheus text format.
pub(super) async fn metrics(
    State(runner): Runner,
    caller: Caller,
) -> Result<impl IntoResponse, ApiError> {
    caller.may_read()?;
    let counts = runner.store().counts()?;
    let mut text = String::new();
    let _ = writeln!(text, "# HELP pipekit_runs Runs recorded, by status.");
    let _ = writeln!(text, "# TYPE pipekit_runs gauge");
    for (status, count) in &counts {
        let _ = writeln!(text, "pipekit_runs{{status=\"{status}\"}} {count}");
    }
    let _ = writeln!(text, "# HELP pipekit_queue_length Runs waiting for a slot.");
    let _ = writeln!(text, "# TYPE pipekit_queue_length gauge");
    let _ = writeln!(
        text,
        "pipekit_queue_length {}",
        counts.get("queued").unwrap_or(&0)
    );
    let _ = writeln!(
        text,
        "# HELP pipekit_run_slots Runs that may go on at once."
    );
    let _ = writeln!(text, "# TYPE pipekit_run_slots gauge");
    let _ = writeln!(text, "pipekit_run_slots {}", runner.service().max_runs);
    runner.job_durations().render(&mut text);
    let headers = [(header::CONTENT_TYPE, "text/plain; version=0.0.4")];
    Ok((headers, text))
}

#[cfg(test)]
mod tests {
    use super::badge_svg;

    #[test]
    fn a_badge_is_an_svg_naming_the_status() {
        let svg = badge_svg("pipekit", "passed", "#3fb950");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("aria-label=\"pipekit: passed\"") && svg.contains("#3fb950"));
        assert!(svg.contains("width=\"111\""), "{svg}");
    }
}
