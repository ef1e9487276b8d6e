//! Where a pipeline file's runs go, and how its containers name it.

use crate::git::GitError;
use crate::recovery::DeadRun;
use std::path::{Path, PathBuf};

use super::error::CliError;

/// Where a pipeline file's `.pipekit/runs/` goes: its directory, except that the files in
/// `.pipekit/` itself keep their runs in that same `.pipekit/runs/` (one folder to ignore).
pub(super) fn run_base_of(pipeline_dir: &Path) -> PathBuf {
    match (pipeline_dir.file_name(), pipeline_dir.parent()) {
        (Some(name), Some(parent)) if name == ".pipekit" => parent.to_path_buf(),
        _ => pipeline_dir.to_path_buf(),
    }
}

/// How a run names its pipeline file on its containers, so `down` finds them however the
/// path was spelled (`../pipekit.yml`, a symlink).
pub(super) fn pipeline_file_label(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// One note per dead run that was cleaned up.
pub(super) fn report_dead_runs(recovered: &[DeadRun]) {
    for run in recovered {
        let plural = if run.processes == 1 { "" } else { "es" };
        err_println!(
            "note: run {} was left behind by a pipekit-ci that died (pid {}): {} process{plural} \
             killed{}",
            run.run_id,
            run.owner_pid,
            run.processes,
            if run.marked_interrupted {
                ", run.json marked interrupted"
            } else {
                ""
            }
        );
    }
}

pub(super) fn environment(error: GitError) -> CliError {
    CliError::Environment(error.to_string())
}

/// Whether git's own environment names the repository (`GIT_DIR`, as hooks get it).
pub(super) fn git_dir_set() -> bool {
    std::env::var_os("GIT_DIR").is_some()
}
