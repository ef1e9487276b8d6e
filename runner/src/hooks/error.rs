//! What can keep a hook from being installed, removed or run.

use std::io;
use std::path::PathBuf;

/// Why a `pipekit-ci hook` command could not do its work.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// Neither git's environment nor the directory names a repository.
    #[error(
        "`{}` is not in a git repository ({reason}); `pipekit-ci hook` works inside one",
        path.display()
    )]
    NotARepository { path: PathBuf, reason: String },

    /// libgit2 could not read the repository or its configuration.
    #[error("cannot read the repository at `{}`: {reason}", path.display())]
    Repository { path: PathBuf, reason: String },

    /// `core.hooksPath` is set to the empty string, which makes git run no hook at all.
    #[error(
        "core.hooksPath is set but empty, so git runs no hooks; \
         `git config --unset core.hooksPath` lets them run again"
    )]
    HooksDisabled,

    /// The hooks directory cannot be created or written.
    #[error(
        "cannot write into the hooks directory `{}`: {source}; is it writable?",
        path.display()
    )]
    HooksDirectory { path: PathBuf, source: io::Error },

    /// Something other than a file sits where the hook goes.
    #[error("`{}` is not a file; move it away to install the hook", path.display())]
    NotAFile { path: PathBuf },

    /// A hook that is not ours is there, and so is a backup from an earlier install:
    /// moving the hook would overwrite that backup.
    #[error(
        "`{}` is not pipekit-ci's hook, and `{}` (kept from an earlier install) is in the way \
         of backing it up; move one of them away and install again",
        hook.display(),
        backup.display()
    )]
    BackupInTheWay { hook: PathBuf, backup: PathBuf },

    /// A file operation on a hook or its backup failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },

    /// A line git gave the hook on stdin is not what the hook expects.
    #[error("{kind}: unexpected input line `{line}`; expected {expected}")]
    MalformedLine {
        kind: &'static str,
        line: String,
        expected: &'static str,
    },

    /// The path of the running binary, which the hook execs, is unknown.
    #[error("cannot tell where the pipekit-ci binary is: {0}")]
    CurrentExecutable(io::Error),
}
