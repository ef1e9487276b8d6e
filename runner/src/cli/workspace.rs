//! Where a run lives: the source tree jobs run in, and the run folder's base.

use std::path::{Path, PathBuf};

/// The source tree of a pipeline file: the root of the git work tree it is in (so that
/// `pipelines/ci.yml` builds the whole repository, as a CI server would), else its directory.
pub fn source_tree(pipeline_dir: &Path) -> PathBuf {
    pipeline_dir
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(pipeline_dir)
        .to_path_buf()
}
