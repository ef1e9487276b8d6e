//! What a run records and tells its jobs about the commit it tests.

use serde::{Deserialize, Serialize};

/// The tested commit (spec: `PIPEKIT_COMMIT`, `PIPEKIT_BRANCH`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    /// Full sha.
    pub sha: String,
    /// Short branch name (`main`), when one is known.
    pub branch: Option<String>,
    /// The whole commit message, without trailing blank lines.
    pub message: String,
    /// `Name <email>`.
    pub author: String,
    /// A working-tree run: whether tracked files differ from HEAD (or are untracked).
    /// `None` for a clean checkout of a commit.
    pub dirty: Option<bool>,
    /// `--staged`: the jobs see the index, not the commit itself.
    pub staged: bool,
}

impl CommitInfo {
    /// The variables every job of the run gets.
    pub fn variables(&self) -> Vec<(String, String)> {
        vec![
            ("PIPEKIT_COMMIT".into(), self.sha.clone()),
            (
                "PIPEKIT_BRANCH".into(),
                self.branch.clone().unwrap_or_default(),
            ),
            ("PIPEKIT_COMMIT_MESSAGE".into(), self.message.clone()),
            ("PIPEKIT_AUTHOR".into(), self.author.clone()),
        ]
    }
}
