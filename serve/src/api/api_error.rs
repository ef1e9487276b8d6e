//! What a request gets when it cannot be served: a 4xx (or 500) with `{"error": "…"}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An API error, its reason shown to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the request itself is wrong.
    BadRequest(String),
    /// 401: the caller may not do this.
    Unauthorized(String),
    /// 403: the caller is known, but its role does not allow this.
    Forbidden(String),
    /// 404: what it names does not exist.
    NotFound(String),
    /// 413: the body is larger than the route takes.
    PayloadTooLarge(String),
    /// 422: understood, but the repository cannot give what it asks for.
    Unprocessable(String),
    /// 500: the server's own failure (its database, its disk).
    Internal(String),
    /// 502: a repository's origin could not be fetched (worth a forge's retry).
    BadGateway(String),
}

impl ApiError {
    /// The HTTP status it answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
        }
    }

    /// Why, for the client.
    pub fn reason(&self) -> &str {
        match self {
            ApiError::BadRequest(reason)
            | ApiError::Unauthorized(reason)
            | ApiError::Forbidden(reason)
            | ApiError::NotFound(reason)
            | ApiError::PayloadTooLarge(reason)
            | ApiError::Unprocessable(reason)
            | ApiError::Internal(reason)
            | ApiError::BadGateway(reason) => reason,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        (status, Json(serde_json::json!({ "error": self.reason() }))).into_response()
    }
}

impl ApiError {
    /// An extractor's rejection of the request (its `status()` and `body_text()`) as an
    /// API error, so that it too is JSON: a body over the limit is 413, the rest 400.
    pub fn rejected(status: StatusCode, reason: String) -> ApiError {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(reason),
            _ => ApiError::BadRequest(reason),
        }
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match error {
            StoreError::UnknownRun(id) => ApiError::NotFound(format!("no run {id}")),
            StoreError::UnknownRepository(name) => {
                ApiError::NotFound(format!("no repository `{name}`"))
            }
            other => ApiError::Internal(crate::error_chain::error_chain(&other)),
        }
    }
}
