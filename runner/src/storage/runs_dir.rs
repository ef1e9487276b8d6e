//! Where a pipeline's run folders go.

use std::path::{Path, PathBuf};

/// The folder that holds a pipeline's run folders, one per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunsDir {
    /// `<dir>/.pipekit/runs/`, beside the pipeline file (spec 3), `.pipekit/` kept out of
    /// git by a `.gitignore` of its own.
    Beside(PathBuf),
    /// This folder itself: the service keeps `runs/<repository>/` in its data folder.
    At(PathBuf),
}

impl RunsDir {
    /// The folder the run folders are in.
    pub fn path(&self) -> PathBuf {
        match self {
            RunsDir::Beside(dir) => beside(dir),
            RunsDir::At(dir) => dir.clone(),
        }
    }
}

/// `<dir>/.pipekit/runs/`.
pub(super) fn beside(dir: &Path) -> PathBuf {
    dir.join(".pipekit").join("runs")
}
