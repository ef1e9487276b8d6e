//! Why the repository could not give what a run needs; each is an environment error.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{path}` is not in a git repository; `--commit` and `--staged` test a commit of one")]
    NotARepository { path: PathBuf },
    #[error("unknown revision `{rev}`{}", shallow_hint(*.shallow))]
    UnknownRevision { rev: String, shallow: bool },
    #[error("`{rev}` is not a commit: {reason}")]
    NotACommit { rev: String, reason: String },
    #[error("the repository has no commit yet (HEAD is unborn)")]
    Unborn,
    #[error("`--staged` needs a repository with a work tree and an index")]
    NoIndex,
    #[error("the repository at `{path}` cannot be read: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("cannot check out {what} into `{path}`: {reason}")]
    Checkout {
        what: String,
        path: PathBuf,
        reason: String,
    },
    /// The caller stopped the export (a cancel of the run); what was written is removed.
    #[error("the export was stopped")]
    Stopped,
}

fn shallow_hint(shallow: bool) -> &'static str {
    if shallow {
        " (this is a shallow clone: the commit may lie beyond its history; \
         `git fetch --unshallow` fetches the rest)"
    } else {
        ""
    }
}
