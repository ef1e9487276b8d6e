//! Why a commit's test could not be planned.

use crate::git::GitError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CommitPlanError {
    /// The repository could not be read.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The file asked for is not in the commit.
    #[error(
        "`{}` is not a file in {shown} (the pipeline is read from the commit, not the \
         working tree)",
        file.display()
    )]
    NotAFile { file: PathBuf, shown: String },
    /// Neither `pipekit.yml` nor `pipekit.yaml` is in the folder of the commit.
    #[error(
        "no pipekit.yml or pipekit.yaml in `{}` of that commit",
        shown_folder(folder)
    )]
    NoDefaultFile { folder: PathBuf },
}

/// The repository's root as `.`.
pub(super) fn shown_folder(folder: &std::path::Path) -> String {
    match folder.as_os_str().is_empty() {
        true => ".".to_owned(),
        false => folder.display().to_string(),
    }
}
