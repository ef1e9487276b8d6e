//! `Caller`: who a request comes from, as an extractor, and what that caller may do
//! (spec 8's "Auth"). Handlers take it and ask `may_read` or `may_change` before they act.

use super::api_error::ApiError;
use super::login::SESSION_COOKIE;
use crate::access::{Role, token_digest};
use crate::queue_runner::QueueRunner;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;
use subtle::ConstantTimeEq;

/// Who is calling, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub identity: Identity,
    /// From this machine (a loopback address).
    pub loopback: bool,
    /// Reads need no token.
    public: bool,
    /// No token (and no user) is configured: there is no way to say who one is, so this
    /// machine's clients are trusted to change things and the others are not.
    nothing_configured: bool,
}

/// How the caller said who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// `Authorization: Bearer <token>` of a configured token.
    Token { name: String, role: Role },
    /// The web UI's session cookie of a signed-in user.
    User {
        name: String,
        role: Role,
        /// The session's CSRF token, which each change made with the cookie must carry.
        csrf: String,
        /// The `X-CSRF-Token` header sent, if any.
        csrf_sent: Option<String>,
    },
    /// Nothing said.
    Anonymous,
}

impl Caller {
    /// The caller's role, if it said who it is.
    pub fn role(&self) -> Option<Role> {
        match &self.identity {
            Identity::Token { role, .. } | Identity::User { role, .. } => Some(*role),
            Identity::Anonymous => None,
        }
    }

    /// The CSRF token a page shows in its forms (`<input name="csrf">`), for a caller
    /// signed in with the session cookie.
    pub fn csrf_token(&self) -> Option<&str> {
        match &self.identity {
            Identity::User { csrf, .. } => Some(csrf),
            _ => None,
        }
    }

    /// [`Caller::may_change`] for a form post, whose CSRF token may be its `csrf` field
    /// rather than the header.
    pub fn may_change_with_form(&self, csrf_field: Option<&str>) -> Result<(), ApiError> {
        match (&self.identity, csrf_field) {
            (
                Identity::User {
                    csrf,
                    csrf_sent: None,
                    ..
                },
                Some(field),
            ) if same(csrf, field) => self.role_may_change(),
            _ => self.may_change(),
        }
    }

    /// Reads: any role, or anybody while reads are public (or, with nothing configured to
    /// say who one is, anybody on this machine).
    pub fn may_read(&self) -> Result<(), ApiError> {
        if self.role().is_some() || self.public || (self.nothing_configured && self.loopback) {
            return Ok(());
        }
        Err(ApiError::Unauthorized(
            "reads on this server need a token: `Authorization: Bearer <token>`".to_owned(),
        ))
    }

    /// Changes (queue, cancel, re-run): an operator's or admin's token; with no token
    /// configured, clients on this machine.
    /// A session cookie alone is not enough: another site can make the browser send it
    /// (SameSite aside), but cannot read the CSRF token, so the change must carry it.
    pub fn may_change(&self) -> Result<(), ApiError> {
        if let Identity::User {
            csrf, csrf_sent, ..
        } = &self.identity
            && !csrf_sent.as_deref().is_some_and(|sent| same(csrf, sent))
        {
            return Err(ApiError::Forbidden(
                "a change made with the session cookie needs its CSRF token (the \
                 `X-CSRF-Token` header or the form's `csrf` field)"
                    .to_owned(),
            ));
        }
        self.role_may_change()
    }

    fn role_may_change(&self) -> Result<(), ApiError> {
        match (&self.identity, self.role()) {
            (_, Some(Role::Operator | Role::Admin)) => Ok(()),
            (Identity::Token { name, role }, _) => Err(ApiError::Forbidden(format!(
                "the token `{name}` is a {role}'s; changes need an operator's or an admin's"
            ))),
            (Identity::User { name, role, .. }, _) => Err(ApiError::Forbidden(format!(
                "`{name}` is a {role}; changes need an operator or an admin"
            ))),
            (Identity::Anonymous, _) if self.nothing_configured => match self.loopback {
                true => Ok(()),
                false => Err(ApiError::Unauthorized(
                    "no tokens are configured, so only clients on this machine may change \
                     anything"
                        .to_owned(),
                )),
            },
            (Identity::Anonymous, _) => Err(ApiError::Unauthorized(
                "changes need an operator's token: `Authorization: Bearer <token>`".to_owned(),
            )),
        }
    }
}

impl FromRequestParts<Arc<QueueRunner>> for Caller {
    type Rejection = ApiError;

    /// A token that is not one of the server's is refused here, whatever the call: a
    /// mistyped token should not look like no token.
    async fn from_request_parts(
        parts: &mut Parts,
        runner: &Arc<QueueRunner>,
    ) -> Result<Caller, ApiError> {
        let policy = &runner.service().access;
        // Without connection info (a router driven in-process) nothing is from loopback.
        let loopback = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .is_some_and(|ConnectInfo(client)| client.ip().is_loopback());
        let identity = match parts.headers.get(AUTHORIZATION) {
            None => match session_cookie(&parts.headers) {
                Some(token) => user_of(runner, &parts.headers, token)?,
                None => Identity::Anonymous,
            },
            Some(value) => {
                let presented = value
                    .to_str()
                    .ok()
                    .and_then(|value| value.strip_prefix("Bearer "))
                    .map(str::trim)
                    .ok_or_else(|| {
                        ApiError::Unauthorized("`Authorization` takes `Bearer <token>`".to_owned())
                    })?;
                let token = policy.token(presented).ok_or_else(|| {
                    ApiError::Unauthorized("no such token on this server".to_owned())
                })?;
                Identity::Token {
                    name: token.name.clone(),
                    role: token.role,
                }
            }
        };
        let nothing_configured = policy.tokens.is_empty() && runner.store().user_count()? == 0;
        Ok(Caller {
            identity,
            loopback,
            public: policy.public,
            nothing_configured,
        })
    }
}

/// The signed-in user of the session cookie `token`; a cookie of no session (ended, or
/// signed out) is 401, so that the page can ask to sign in again.
fn user_of(runner: &QueueRunner, headers: &HeaderMap, token: &str) -> Result<Identity, ApiError> {
    let session = runner
        .store()
        .session(&token_digest(token), SystemTime::now())?
        .ok_or_else(|| ApiError::Unauthorized("the session has ended; sign in again".to_owned()))?;
    let csrf_sent = headers
        .get("x-csrf-token")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    Ok(Identity::User {
        name: session.user,
        role: session.role,
        csrf: session.csrf_token,
        csrf_sent,
    })
}

/// The session cookie's value in the request's `Cookie` headers.
pub(super) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|cookies| cookies.split(';'))
        .find_map(|cookie| {
            let (name, value) = cookie.trim().split_once('=')?;
            (name == SESSION_COOKIE && !value.is_empty()).then_some(value)
        })
}

/// Whether two tokens are the same, in constant time.
fn same(ours: &str, sent: &str) -> bool {
    bool::from(token_digest(ours).ct_eq(&token_digest(sent)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(identity: Identity, loopback: bool, public: bool, nothing: bool) -> Caller {
        Caller {
            identity,
            loopback,
            public,
            nothing_configured: nothing,
        }
    }

    fn token(role: Role) -> Identity {
        Identity::Token {
            name: "t".to_owned(),
            role,
        }
    }

    fn user(role: Role, csrf_sent: Option<&str>) -> Identity {
        Identity::User {
            name: "ada".to_owned(),
            role,
            csrf: "csrf-1".to_owned(),
            csrf_sent: csrf_sent.map(str::to_owned),
        }
    }

    #[test]
    fn a_change_with_the_session_cookie_needs_its_csrf_token() {
        let status = |result: Result<(), ApiError>| match result {
            Ok(()) => 0,
            Err(ApiError::Forbidden(_)) => 403,
            Err(_) => 1,
        };
        let cases = [
            (user(Role::Operator, Some("csrf-1")), None, 0),
            (user(Role::Operator, None), Some("csrf-1"), 0),
            (user(Role::Operator, None), None, 403),
            (user(Role::Operator, Some("csrf-2")), None, 403),
            (user(Role::Operator, None), Some("csrf-2"), 403),
            (user(Role::Viewer, Some("csrf-1")), None, 403),
        ];
        for (identity, field, expected) in cases {
            let caller = caller(identity, true, true, false);
            assert_eq!(
                status(caller.may_change_with_form(field)),
                expected,
                "{caller:?} {field:?}"
            );
            assert_eq!(caller.csrf_token(), Some("csrf-1"));
            assert_eq!(caller.may_read(), Ok(()));
        }
    }

    #[test]
    fn what_each_caller_may_do() {
        use Identity::Anonymous;
        // (caller, may read, may change: Ok or the status it gets)
        let cases = [
            (
                caller(token(Role::Viewer), false, false, false),
                Ok(()),
                Err(403),
            ),
            (
                caller(token(Role::Operator), false, false, false),
                Ok(()),
                Ok(()),
            ),
            (
                caller(token(Role::Admin), false, false, false),
                Ok(()),
                Ok(()),
            ),
            (caller(Anonymous, true, true, false), Ok(()), Err(401)),
            (caller(Anonymous, false, true, false), Ok(()), Err(401)),
            (caller(Anonymous, true, false, false), Err(401), Err(401)),
            (caller(Anonymous, true, false, true), Ok(()), Ok(())),
            (caller(Anonymous, false, false, true), Err(401), Err(401)),
            (caller(Anonymous, false, true, true), Ok(()), Err(401)),
        ];
        let status = |result: Result<(), ApiError>| {
            result.map_err(|error| match error {
                ApiError::Unauthorized(_) => 401,
                ApiError::Forbidden(_) => 403,
                _ => 0,
            })
        };
        for (caller, read, change) in cases {
            assert_eq!(status(caller.may_read()), read, "{caller:?}");
            assert_eq!(status(caller.may_change()), change, "{caller:?}");
        }
    }
}
