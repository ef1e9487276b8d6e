//! `Caller`: who a request comes from, as an extractor, and what that caller may do
//! (spec 8's "Auth"). Handlers take it and ask `may_read` or `may_change` before they act.

use super::api_error::ApiError;
use crate::access::Role;
use crate::queue_runner::QueueRunner;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use std::net::SocketAddr;
use std::sync::Arc;

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
    /// Nothing said.
    Anonymous,
}

impl Caller {
    /// The caller's role, if it said who it is.
    pub fn role(&self) -> Option<Role> {
        match &self.identity {
            Identity::Token { role, .. } => Some(*role),
            Identity::Anonymous => None,
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
    pub fn may_change(&self) -> Result<(), ApiError> {
        match (&self.identity, self.role()) {
            (_, Some(Role::Operator | Role::Admin)) => Ok(()),
            (Identity::Token { name, role }, _) => Err(ApiError::Forbidden(format!(
                "the token `{name}` is a {role}'s; changes need an operator's or an admin's"
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
            None => Identity::Anonymous,
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
        Ok(Caller {
            identity,
            loopback,
            public: policy.public,
            nothing_configured: policy.tokens.is_empty(),
        })
    }
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
