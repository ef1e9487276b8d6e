//! `/`: every run, newest first, filtered by repository, branch and status; the script
//! keeps the table up to date from `/api/v1/runs` with the same filters.

use super::page_error::{PageError, rendered};
use super::run_line::RunLine;
use crate::api::Caller;
use crate::api::runs::run_filter;
use crate::queue_runner::QueueRunner;
use crate::store::RunState;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "runs.html")]
struct RunListPage {
    runs: Vec<RunLine>,
    repositories: Vec<String>,
    statuses: Vec<&'static str>,
    filter: Filter,
    /// The filters as `/api/v1/runs` takes them, for the script.
    api_query: String,
}

#[derive(Default)]
struct Filter {
    repository: String,
    branch: String,
    status: String,
}

pub(super) async fn page(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
    Query(mut query): Query<HashMap<String, String>>,
) -> Result<Html<String>, PageError> {
    caller.may_read()?;
    // An empty field of the form is no filter.
    query.retain(|_, value| !value.is_empty());
    let filter = run_filter(query.clone())?;
    let runs = runner.store().runs(&filter)?;
    let mut pairs: Vec<_> = query.iter().collect();
    pairs.sort();
    let api_query = pairs
        .iter()
        .map(|(key, value)| format!("{}={}", url_encoded(key), url_encoded(value)))
        .collect::<Vec<_>>()
        .join("&");
    let field = |name: &str| query.get(name).cloned().unwrap_or_default();
    let page = RunListPage {
        runs: runs.into_iter().map(RunLine::from).collect(),
        repositories: runner.service().repositories.keys().cloned().collect(),
        statuses: RunState::ALL.iter().map(|state| state.as_str()).collect(),
        filter: Filter {
            repository: field("repository"),
            branch: field("branch"),
            status: field("status"),
        },
        api_query,
    };
    rendered(&page)
}

/// `text` as a query string value.
pub fn url_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}
