//! An API error shown as a page: the same status and reason, in the site's layout.

use crate::api::ApiError;
use askama::Template;
use axum::response::{Html, IntoResponse, Response};

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: String,
    reason: &'a str,
}

#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(error: crate::store::StoreError) -> Self {
        PageError(ApiError::from(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = ErrorPage {
            status: status.to_string(),
            reason: self.0.reason(),
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => self.0.into_response(),
        }
    }
}

/// Renders a page, or says why it could not be.
pub fn rendered(page: &impl Template) -> Result<Html<String>, PageError> {
    page.render()
        .map(Html)
        .map_err(|error| PageError(ApiError::Internal(format!("the page failed: {error}"))))
}
