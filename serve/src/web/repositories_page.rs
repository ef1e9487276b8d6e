//! `/repositories`: each served repository with a badge per branch it has runs of, and the
//! Markdown to put that badge in a README.

use super::page_error::{PageError, rendered};
use super::run_list_page::url_encoded;
use crate::api::Caller;
use crate::queue_runner::QueueRunner;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "repositories.html")]
struct RepositoriesPage {
    repositories: Vec<Repository>,
}

struct Repository {
    name: String,
    path: String,
    branches: Vec<Branch>,
    /// Why its last read failed, and when.
    problem: Option<(String, String)>,
}

struct Branch {
    name: String,
    badge: String,
}

pub(super) async fn page(
    State(runner): State<Arc<QueueRunner>>,
    caller: Caller,
) -> Result<Html<String>, PageError> {
    caller.may_read()?;
    let problems = runner.read_problems();
    let mut repositories = Vec::new();
    for (name, path) in &runner.service().repositories {
        let branches = runner.store().branches(name)?;
        repositories.push(Repository {
            problem: problems
                .get(name)
                .map(|problem| (problem.text.clone(), problem.at.clone())),
            name: name.clone(),
            // Its origin for a mirror: where people push, not the copy under the data folder.
            path: runner.service().mirrors.get(name).map_or_else(
                || path.display().to_string(),
                |mirror| mirror.url().to_owned(),
            ),
            branches: branches
                .into_iter()
                .map(|branch| Branch {
                    badge: format!("/badge/{}/{}.svg", url_encoded(name), url_encoded(&branch)),
                    name: branch,
                })
                .collect(),
        });
    }
    rendered(&RepositoriesPage { repositories })
}
