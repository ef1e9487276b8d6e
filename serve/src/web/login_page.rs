//! `/login`: the sign-in form for local users (`pipekit-ci serve user add`); it posts to
//! `POST /login`, which sets the session cookie and goes back to the page asked for.

use super::page_error::{PageError, rendered};
use askama::Template;
use axum::extract::Query;
use axum::response::Html;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    failed: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct LoginQuery {
    next: Option<String>,
    failed: Option<String>,
}

pub(super) async fn page(Query(query): Query<LoginQuery>) -> Result<Html<String>, PageError> {
    rendered(&LoginPage {
        next: query
            .next
            .filter(|next| next.starts_with('/') && !next.starts_with("//"))
            .unwrap_or_else(|| "/".to_owned()),
        failed: query.failed.is_some(),
    })
}
