//! The request each forge's commit status API takes: GitHub's and Gitea's
//! `POST {api}/repos/{owner}/{repo}/statuses/{sha}`, GitLab's
//! `POST {api}/projects/{id}/statuses/{sha}`.

use super::forge_kind::ForgeKind;
use super::job_status::JobStatus;
use super::status_settings::ForgeTarget;
use serde_json::json;

/// The longest description GitHub takes; the others take more, but one rule is simpler
/// to read on every forge's page.
const DESCRIPTION_CHARS: usize = 140;

/// A repository as its forge names it: `owner/app` on GitHub and Gitea; on GitLab a
/// project id (`42`) or path (`group/subgroup/app`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeRepository(String);

impl ForgeRepository {
    /// Checks `name` for `forge`; `Err` says what is wrong with it.
    pub fn parse(forge: ForgeKind, name: &str) -> Result<ForgeRepository, String> {
        let segments: Vec<&str> = name.split('/').collect();
        let plain = |segment: &&str| {
            !segment.is_empty()
                && !segment.starts_with('.')
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        let fits = match forge {
            ForgeKind::GitHub | ForgeKind::Gitea => segments.len() == 2,
            ForgeKind::GitLab => segments.len() >= 2 || name.chars().all(|c| c.is_ascii_digit()),
        };
        if fits && segments.iter().all(plain) {
            return Ok(ForgeRepository(name.to_owned()));
        }
        Err(match forge {
            ForgeKind::GitHub | ForgeKind::Gitea => format!(
                "`{name}` is not a {} repository: `owner/name`",
                forge.as_str()
            ),
            ForgeKind::GitLab => {
                format!("`{name}` is not a GitLab project: its number or its path (`group/name`)")
            }
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One status, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMessage {
    pub commit: String,
    pub context: String,
    pub status: JobStatus,
    pub description: String,
    pub target_url: String,
}

/// A request for the forge, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeRequest {
    /// The path and query, starting with `/`.
    pub path: String,
    /// Besides `Host`, `Content-Type` and `Content-Length`.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl ForgeRequest {
    /// The request that sets `message` on `target`'s forge.
    pub fn new(target: &ForgeTarget, message: &StatusMessage) -> ForgeRequest {
        let state = message.status.forge_state(target.kind);
        let description = shortened(&message.description);
        let token = target.token.expose();
        let base = &target.api.path;
        let (path, headers, body) = match target.kind {
            ForgeKind::GitHub | ForgeKind::Gitea => (
                format!(
                    "{base}/repos/{}/statuses/{}",
                    target.repository.as_str(),
                    message.commit
                ),
                match target.kind {
                    // GitHub's documented form; `token` works too, and is Gitea's.
                    ForgeKind::GitHub => vec![
                        ("authorization", format!("Bearer {token}")),
                        ("accept", "application/vnd.github+json".to_owned()),
                        ("x-github-api-version", "2022-11-28".to_owned()),
                    ],
                    _ => vec![
                        ("authorization", format!("token {token}")),
                        ("accept", "application/json".to_owned()),
                    ],
                },
                json!({
                    "state": state,
                    "target_url": message.target_url,
                    "description": description,
                    "context": message.context,
                }),
            ),
            ForgeKind::GitLab => (
                format!(
                    "{base}/projects/{}/statuses/{}",
                    percent_encoded(target.repository.as_str()),
                    message.commit
                ),
                vec![
                    ("private-token", token.to_owned()),
                    ("accept", "application/json".to_owned()),
                ],
                json!({
                    "state": state,
                    "name": message.context,
                    "target_url": message.target_url,
                    "description": description,
                }),
            ),
        };
        let mut headers = headers;
        // GitHub refuses a request without one.
        headers.push((
            "user-agent",
            concat!("pipekit-ci/", env!("CARGO_PKG_VERSION")).to_owned(),
        ));
        ForgeRequest {
            path,
            headers,
            body: body.to_string().into_bytes(),
        }
    }
}

/// At most [`DESCRIPTION_CHARS`] characters, an ellipsis saying when some were cut.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(DESCRIPTION_CHARS - 1) {
        Some((end, _)) if text.len() > end + 1 => format!("{}…", &text[..end]),
        _ => text.to_owned(),
    }
}

/// `text` as one path segment: GitLab takes a project path so, its slashes encoded, and a
/// job's page is linked so.
pub(super) fn percent_encoded(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(char::from(byte));
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{ApiBase, ForgeToken};
    use serde_json::Value;

    fn target(kind: ForgeKind, api: &str, repository: &str) -> ForgeTarget {
        ForgeTarget {
            kind,
            api: ApiBase::parse(api).expect("a URL"),
            repository: ForgeRepository::parse(kind, repository).expect("a repository"),
            token: ForgeToken::new("t0k".to_owned()),
        }
    }

    fn message(status: JobStatus) -> StatusMessage {
        StatusMessage {
            commit: "0123abcd".to_owned(),
            context: "pipekit/ci/build".to_owned(),
            status,
            description: "running".to_owned(),
            target_url: "http://ci/runs/7/jobs/build".to_owned(),
        }
    }

    fn header<'a>(request: &'a ForgeRequest, name: &str) -> Option<&'a str> {
        request
            .headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn each_forge_gets_its_path_its_token_header_and_its_fields() -> Result<(), serde_json::Error> {
        let github = ForgeRequest::new(
            &target(ForgeKind::GitHub, "https://api.github.com", "owner/app"),
            &message(JobStatus::Running),
        );
        assert_eq!(github.path, "/repos/owner/app/statuses/0123abcd");
        assert_eq!(header(&github, "authorization"), Some("Bearer t0k"));
        let body: Value = serde_json::from_slice(&github.body)?;
        assert_eq!(
            body,
            json!({"state": "pending", "description": "running", "context": "pipekit/ci/build",
                   "target_url": "http://ci/runs/7/jobs/build"})
        );

        let gitea = ForgeRequest::new(
            &target(
                ForgeKind::Gitea,
                "https://gitea.example/api/v1/",
                "owner/app",
            ),
            &message(JobStatus::Skipped),
        );
        assert_eq!(gitea.path, "/api/v1/repos/owner/app/statuses/0123abcd");
        assert_eq!(header(&gitea, "authorization"), Some("token t0k"));
        let body: Value = serde_json::from_slice(&gitea.body)?;
        assert_eq!(body["state"], "warning");

        let gitlab = ForgeRequest::new(
            &target(
                ForgeKind::GitLab,
                "https://gitlab.example/api/v4",
                "group/sub/app",
            ),
            &message(JobStatus::Running),
        );
        assert_eq!(
            gitlab.path,
            "/api/v4/projects/group%2Fsub%2Fapp/statuses/0123abcd"
        );
        assert_eq!(header(&gitlab, "private-token"), Some("t0k"));
        assert_eq!(header(&gitlab, "authorization"), None);
        let body: Value = serde_json::from_slice(&gitlab.body)?;
        assert_eq!(
            body,
            json!({"state": "running", "description": "running", "name": "pipekit/ci/build",
                   "target_url": "http://ci/runs/7/jobs/build"})
        );
        for request in [&github, &gitea, &gitlab] {
            assert!(
                header(request, "user-agent").is_some_and(|agent| agent.starts_with("pipekit-ci/"))
            );
        }
        Ok(())
    }

    #[test]
    fn a_long_description_is_cut_to_140_characters() {
        let mut long = message(JobStatus::Failed);
        long.description = "é".repeat(200);
        let request = ForgeRequest::new(
            &target(ForgeKind::GitHub, "https://api.github.com", "o/a"),
            &long,
        );
        let body: Value = serde_json::from_slice(&request.body).expect("json");
        let description = body["description"].as_str().expect("a string");
        assert_eq!(description.chars().count(), 140);
        assert!(description.ends_with('…'));
        assert_eq!(shortened(&"x".repeat(140)), "x".repeat(140));
    }

    #[test]
    fn a_repository_is_named_as_its_forge_names_them() {
        let good = [
            (ForgeKind::GitHub, "owner/app"),
            (ForgeKind::Gitea, "org/app.rs"),
            (ForgeKind::GitLab, "42"),
            (ForgeKind::GitLab, "group/sub/app"),
        ];
        for (kind, name) in good {
            assert!(ForgeRepository::parse(kind, name).is_ok(), "{name}");
        }
        let bad = [
            (ForgeKind::GitHub, "app", "`owner/name`"),
            (ForgeKind::GitHub, "a/b/c", "`owner/name`"),
            (ForgeKind::Gitea, "owner/../x", "`owner/name`"),
            (ForgeKind::GitHub, "owner/a p", "`owner/name`"),
            (ForgeKind::GitLab, "app", "its number or its path"),
            (ForgeKind::GitLab, "group//app", "its number or its path"),
        ];
        for (kind, name, expected) in bad {
            let error = ForgeRepository::parse(kind, name).expect_err(name);
            assert!(error.contains(expected), "{name}: {error}");
        }
    }
}
