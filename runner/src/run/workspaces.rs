//! Where each job's source tree is: the one working tree, or a checkout of its own that
//! holds the artifacts of the jobs it depends on.

use crate::git::Checkouts;
use crate::storage::{ArtifactError, ArtifactStore, ExtractLimits, link_staged};
use pipekit_schema::{Job, Pipeline};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone)]
pub enum Workspaces {
    /// Every job runs in the one working tree, like `make` (the default).
    Shared(PathBuf),
    /// `--commit`/`--staged`: each job gets its own checkout; `set` names the pipeline's
    /// share of them.
    PerJob {
        checkouts: Arc<Checkouts>,
        set: String,
    },
}

impl Workspaces {
    /// The source tree `job` runs in.
    pub fn of(&self, job: &str) -> PathBuf {
        match self {
            Workspaces::Shared(tree) => tree.clone(),
            Workspaces::PerJob { checkouts, set } => checkouts.job_tree(set, job),
        }
    }

    /// Where `job`'s artifacts are staged for its dependents when it exits: only with
    /// checkouts, which a staged tree can be hard-linked into.
    pub fn staged_artifacts(&self, job: &str) -> Option<PathBuf> {
        match self {
            Workspaces::Shared(_) => None,
            Workspaces::PerJob { checkouts, set } => Some(checkouts.staged_artifacts(set, job)),
        }
    }

    /// Whether [`Workspaces::prepare`] has anything to do: only checkouts are prepared, and
    /// the driver skips the blocking pool's round trip (two thread wake-ups per job) without.
    pub fn need_preparing(&self) -> bool {
        matches!(self, Workspaces::PerJob { .. })
    }

    /// Makes `job`'s tree ready before it starts: its own checkout, and the artifacts of
    /// each job it depends on unpacked into it (spec 3). Returns what was unpacked, for the
    /// job's progress line. Blocking: run it off the driver's task.
    pub fn prepare(
        &self,
        pipeline: &Pipeline,
        job: &Job,
        store: &dyn ArtifactStore,
    ) -> Result<Vec<String>, String> {
        let Workspaces::PerJob { checkouts, set } = self else {
            return Ok(Vec::new());
        };
        let tree = checkouts
            .prepare(set, &job.name)
            .map_err(|error| format!("cannot make its checkout: {error}"))?;
        let mut said = Vec::new();
        let mut seen = Vec::new();
        for condition in &job.depends_on {
            if seen.contains(&condition.job) {
                continue;
            }
            seen.push(condition.job);
            let from = &pipeline.job(condition.job).name;
            let refused = |error| format!("artifacts of `{from}` refused: {error}");
            let staged = checkouts.staged_artifacts(set, from);
            let files = if staged.is_dir() {
                link_staged(&staged, &tree).map_err(refused)?
            } else {
                // Not staged (its job could not stage them): the archive, if any, checked
                // entry by entry like any archive.
                match store.unpack(from, &tree, &ExtractLimits::default()) {
                    Ok(unpacked) => unpacked.files,
                    // It left none (it failed, or its patterns matched nothing).
                    Err(ArtifactError::ReadArchive { source, .. })
                        if source.kind() == std::io::ErrorKind::NotFound =>
                    {
                        continue;
                    }
                    Err(error) => return Err(refused(error)),
                }
            };
            said.push(format!(
                "linked {files} artifact file{} of `{from}`",
                if files == 1 { "" } else { "s" }
            ));
        }
        Ok(said)
    }
}
