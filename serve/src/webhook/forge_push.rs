//! The push a forge's webhook tells of: GitHub, Gitea/Forgejo and GitLab all put `ref`,
//! `before` and `after` at the top of their push payloads.

use serde::Deserialize;

/// A ref moved by a push, as the forge says.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ForgePush {
    /// `refs/heads/main`, `refs/tags/v1.0`.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The commit the ref was at; all zeros for a new ref.
    pub before: String,
    /// The commit the ref is at now; all zeros for a deleted ref.
    pub after: String,
}

/// Why a push payload cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PushPayloadError {
    #[error("the push payload is not what forges send: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the push payload's `{field}` is `{value}`, not a commit id (40 or 64 hex digits)")]
    NotACommit { field: &'static str, value: String },
}

impl ForgePush {
    /// Reads a push payload; its commits must be full ids, since anything else would be
    /// looked up in the repository as a revision (`main~1`).
    pub fn parse(body: &[u8]) -> Result<ForgePush, PushPayloadError> {
        let push: ForgePush = serde_json::from_slice(body)?;
        for (field, value) in [("before", &push.before), ("after", &push.after)] {
            if !is_commit_id(value) {
                return Err(PushPayloadError::NotACommit {
                    field,
                    value: value.chars().take(80).collect(),
                });
            }
        }
        Ok(push)
    }
}

fn is_commit_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZEROS: &str = "0000000000000000000000000000000000000000";
    const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";

    #[test]
    fn a_push_is_read_with_its_ref_and_commits_and_the_rest_ignored() {
        let body = format!(
            r#"{{"ref": "refs/heads/main", "before": "{ZEROS}", "after": "{SHA}", "commits": [], "repository": {{"name": "app"}}}}"#
        );
        let push = ForgePush::parse(body.as_bytes()).expect("a push");
        assert_eq!(push.reference, "refs/heads/main");
        assert_eq!(push.after, SHA);
    }

    #[test]
    fn what_is_no_push_is_refused_with_why() {
        let cases = [
            ("{", "not what forges send"),
            (r#"{"ref": "refs/heads/main"}"#, "missing field `before`"),
            (
                r#"{"ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000", "after": "main~1"}"#,
                "`after` is `main~1`, not a commit id",
            ),
        ];
        for (body, expected) in cases {
            let error = ForgePush::parse(body.as_bytes())
                .expect_err(body)
                .to_string();
            assert!(error.contains(expected), "{body}: {error}");
        }
    }
}
