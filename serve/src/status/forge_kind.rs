//! Which forge a repository's commit statuses go to.

use serde::Deserialize;

/// The forges whose commit status APIs pipekit-ci speaks (`kind:` in `status:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ForgeKind {
    #[serde(rename = "github")]
    GitHub,
    /// Gitea and Forgejo, which kept Gitea's API.
    #[serde(rename = "gitea")]
    Gitea,
    #[serde(rename = "gitlab")]
    GitLab,
}

impl ForgeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "github",
            ForgeKind::Gitea => "gitea",
            ForgeKind::GitLab => "gitlab",
        }
    }
}
