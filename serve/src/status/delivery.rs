//! What one attempt to deliver a status came to, and so what the outbox does next.

use super::forge_client::{ForgeAnswer, ForgeClientError};
use crate::error_chain::error_chain;

/// Of the forge's answer to one status, for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A 2xx: done.
    Accepted,
    /// No answer, a 5xx or a 429: the forge may take it later; why, for the record.
    RetryLater(String),
    /// Any other answer: sent again it would be refused again (a wrong token, an unknown
    /// commit or repository); why, for the record.
    Refused(String),
}

impl Delivery {
    /// What `attempt` came to.
    pub fn of(attempt: Result<ForgeAnswer, ForgeClientError>) -> Delivery {
        let answer = match attempt {
            Ok(answer) => answer,
            // A host TLS cannot name will not become one.
            Err(error @ ForgeClientError::ServerName(_)) => {
                return Delivery::Refused(error_chain(&error));
            }
            Err(error) => return Delivery::RetryLater(error_chain(&error)),
        };
        let said = || {
            let body: String = answer.body.trim().chars().take(300).collect();
            match body.is_empty() {
                true => format!("the forge answered {}", answer.status),
                false => format!("the forge answered {}: {body}", answer.status),
            }
        };
        match answer.status {
            200..=299 => Delivery::Accepted,
            429 | 500..=599 => Delivery::RetryLater(said()),
            300..=399 => Delivery::Refused(format!(
                "{} (redirects are not followed: check `api` and `repository`)",
                said()
            )),
            _ => Delivery::Refused(said()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answered(status: u16, body: &str) -> Delivery {
        Delivery::of(Ok(ForgeAnswer {
            status,
            body: body.to_owned(),
        }))
    }

    #[test]
    fn two_hundreds_are_taken_server_errors_and_429_retried_other_refusals_final() {
        assert_eq!(answered(201, "{}"), Delivery::Accepted);
        assert_eq!(answered(200, ""), Delivery::Accepted);
        for status in [429, 500, 502, 503] {
            assert!(
                matches!(answered(status, ""), Delivery::RetryLater(_)),
                "{status}"
            );
        }
        assert_eq!(
            answered(422, r#" {"message":"No commit found for SHA: 1234"} "#),
            Delivery::Refused(
                r#"the forge answered 422: {"message":"No commit found for SHA: 1234"}"#.to_owned()
            )
        );
        for status in [400, 401, 403, 404, 301] {
            assert!(
                matches!(answered(status, ""), Delivery::Refused(_)),
                "{status}"
            );
        }
        let Delivery::Refused(why) = answered(301, "") else {
            panic!("refused");
        };
        assert!(why.contains("redirects are not followed"), "{why}");
    }

    #[test]
    fn no_answer_is_retried() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let delivery = Delivery::of(Err(ForgeClientError::Connect {
            address: "127.0.0.1:9".to_owned(),
            source: refused,
        }));
        let Delivery::RetryLater(why) = delivery else {
            panic!("retried: {delivery:?}");
        };
        assert!(why.starts_with("cannot connect to 127.0.0.1:9"), "{why}");
    }
}
