//! The git hooks pipekit-ci can install.

use std::fmt;

/// A git hook pipekit-ci installs; its command-line name is git's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HookKind {
    /// Before `git push` sends anything: runs the pipelines of each pushed commit.
    PrePush,
    /// Before `git commit` records anything: runs the pipelines on the staged tree.
    PreCommit,
    /// In the receiving (usually bare) repository, after a push: runs the pipelines of
    /// each pushed ref on the server side.
    PostReceive,
}

impl HookKind {
    /// The hook's file name in the hooks directory.
    pub fn file_name(self) -> &'static str {
        match self {
            HookKind::PrePush => "pre-push",
            HookKind::PreCommit => "pre-commit",
            HookKind::PostReceive => "post-receive",
        }
    }

    /// Whether git writes ref lines on the hook's stdin.
    pub fn reads_ref_updates(self) -> bool {
        matches!(self, HookKind::PrePush | HookKind::PostReceive)
    }

    /// Whether a failing hook stops what git is doing (post-receive runs once the refs
    /// are already updated).
    pub fn can_block(self) -> bool {
        !matches!(self, HookKind::PostReceive)
    }

    /// What the hook stops when it fails: "push", "commit".
    pub fn blocks(self) -> &'static str {
        match self {
            HookKind::PrePush => "push",
            HookKind::PreCommit => "commit",
            HookKind::PostReceive => "nothing",
        }
    }

    /// The git command that goes ahead without the hook, as git users expect.
    pub fn bypass(self) -> Option<&'static str> {
        match self {
            HookKind::PrePush => Some("git push --no-verify"),
            HookKind::PreCommit => Some("git commit --no-verify"),
            HookKind::PostReceive => None,
        }
    }

    /// Whether git calls this hook in a bare repository (and only there, usually).
    pub fn is_server_side(self) -> bool {
        matches!(self, HookKind::PostReceive)
    }
}

impl fmt::Display for HookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.file_name())
    }
}
