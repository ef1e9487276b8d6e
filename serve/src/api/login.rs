//! `POST /login` and `POST /logout`: the web UI's sessions. Signing in sets an HttpOnly,
//! SameSite=Strict cookie holding a random value (the database keeps its SHA-256) and
//! answers the session's CSRF token, which every change made with the cookie must send
//! back (see `Caller`).

use super::api_error::ApiError;
use super::caller::session_cookie;
use crate::access::{password_matches, random_token, token_digest};
use crate::queue_runner::QueueRunner;
use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// The cookie's name.
pub(super) const SESSION_COOKIE: &str = "pipekit_session";

/// How long a session lasts without signing in again.
const SESSION_LENGTH: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Deserialize)]
pub(super) struct LoginForm {
    name: String,
    password: String,
    /// From the sign-in page: where to go once signed in (a path of this site). Without
    /// it the answer is JSON, for scripts.
    next: Option<String>,
}

/// 200 `{"user", "role", "csrf"}` with the session cookie, or 401 for a wrong name or
/// password (the same answer for both, so that it does not tell which names exist).
pub(super) async fn login(
    State(runner): State<Arc<QueueRunner>>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, ApiError> {
    let Form(form) =
        form.map_err(|rejection| ApiError::rejected(rejection.status(), rejection.body_text()))?;
    // Only a path of this site: `//elsewhere` would send a signed-in user off it.
    let next = form
        .next
        .clone()
        .filter(|next| next.starts_with('/') && !next.starts_with("//"));
    // argon2 is slow on purpose: off the runtime's threads.
    let answer = tokio::task::spawn_blocking(move || {
        let user = runner.store().user(&form.name)?;
        let hash = user.as_ref().map(|user| user.password_hash.as_str());
        let user = match (password_matches(&form.password, hash), user) {
            (true, Some(user)) => user,
            _ => {
                return Err(ApiError::Unauthorized("wrong name or password".to_owned()));
            }
        };
        let random = |_| ApiError::Internal("no random values for a session".to_owned());
        let token = random_token().map_err(random)?;
        let csrf = random_token().map_err(random)?;
        let now = SystemTime::now();
        runner.store().start_session(
            &user.name,
            &token_digest(&token),
            &csrf,
            now,
            now + SESSION_LENGTH,
        )?;
        let cookie = format!(
            "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
            SESSION_LENGTH.as_secs()
        );
        let cookie = HeaderValue::from_str(&cookie)
            .map_err(|error| ApiError::Internal(error.to_string()))?;
        let body = json!({ "user": user.name, "role": user.role.as_str(), "csrf": csrf });
        Ok(([(SET_COOKIE, cookie)], Json(body)).into_response())
    })
    .await
    .map_err(|error| ApiError::Internal(error.to_string()))?;
    match (next, answer) {
        (None, answer) => answer,
        (Some(next), Ok(signed_in)) => {
            let mut redirect = Redirect::to(&next).into_response();
            if let Some(cookie) = signed_in.headers().get(SET_COOKIE) {
                redirect.headers_mut().insert(SET_COOKIE, cookie.clone());
            }
            Ok(redirect)
        }
        (Some(next), Err(ApiError::Unauthorized(_))) => Ok(Redirect::to(&format!(
            "/login?failed=1&next={}",
            crate::web::url_encoded(&next)
        ))
        .into_response()),
        (Some(_), Err(other)) => Err(other),
    }
}

/// 200, the session ended and its cookie cleared (also when there was none).
pub(super) async fn logout(
    State(runner): State<Arc<QueueRunner>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = session_cookie(&headers) {
        runner.store().end_session(&token_digest(token))?;
    }
    let cleared =
        HeaderValue::from_static("pipekit_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    Ok((
        StatusCode::OK,
        [(SET_COOKIE, cleared)],
        Json(json!({ "signed_out": true })),
    )
        .into_response())
}
