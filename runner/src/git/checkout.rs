//! Clean per-job checkouts of one tree (spec 5: each job its own, as on a CI server).
//!
//! The tree is written out of the object database once per run; each job then gets a tree
//! of hard links to that export: its own folders and names, the export's files. Creating
//! inodes is what costs on ext4 (a copy of 5,000 files took 0.6–1.0 s once the disk had
//! seen earlier runs' checkouts deleted; links took 30 ms), and a job's tools replace files
//! (write a new one, rename it over) far more often than they rewrite one in place. A job
//! that does rewrite a tracked file in place changes it for the other jobs of the run too:
//! ARCHITECTURE.md says why that trade was made.

use super::{GitError, SourceRepo};
use git2::Oid;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use walkdir::WalkDir;

/// The checkouts of one run, in a temporary folder removed with it (unless kept).
pub struct Checkouts {
    root: Option<tempfile::TempDir>,
    path: PathBuf,
    /// Files in the exported tree.
    pub files: usize,
}

impl Checkouts {
    /// Exports `tree` into a new temporary folder under `temp_root`. Once `stop` is set the
    /// export ends with [`GitError::Stopped`], and the folder is removed with what was
    /// written into it.
    pub fn export(
        repo: &SourceRepo,
        tree: Oid,
        temp_root: &Path,
        stop: &AtomicBool,
    ) -> Result<Checkouts, GitError> {
        let failed = |what: &str, error: io::Error| GitError::Checkout {
            what: what.to_string(),
            path: temp_root.to_path_buf(),
            reason: error.to_string(),
        };
        let root = tempfile::Builder::new()
            .prefix("pipekit-checkouts-")
            .tempdir_in(temp_root)
            .map_err(|e| failed("a temporary folder", e))?;
        let path = root.path().to_path_buf();
        let export = path.join("export");
        std::fs::create_dir(&export).map_err(|e| failed("the export folder", e))?;
        std::fs::create_dir(path.join("jobs")).map_err(|e| failed("the jobs folder", e))?;
        let files = repo.export(tree, &export, stop)?;
        Ok(Checkouts {
            root: Some(root),
            path,
            files,
        })
    }

    /// The temporary folder holding the export and every job's tree.
    pub fn root(&self) -> &Path {
        &self.path
    }

    /// The exported tree, as the commit has it.
    pub fn exported(&self) -> PathBuf {
        self.path.join("export")
    }

    /// Where `job`'s checkout is (made by [`Checkouts::prepare`]); `set` keeps the jobs of
    /// several pipelines run on one commit apart.
    pub fn job_tree(&self, set: &str, job: &str) -> PathBuf {
        self.path.join("jobs").join(set).join(job)
    }

    /// Where the artifacts `job` left are staged for its dependents (see
    /// `storage::stage`): beside the checkouts, so they can be hard-linked both ways.
    pub fn staged_artifacts(&self, set: &str, job: &str) -> PathBuf {
        self.path.join("artifacts").join(set).join(job)
    }

    /// Makes `job`'s own tree of the export.
    pub fn prepare(&self, set: &str, job: &str) -> io::Result<PathBuf> {
        let destination = self.job_tree(set, job);
        link_tree(&self.exported(), &destination)?;
        Ok(destination)
    }

    /// Leaves the checkouts on disk (`--keep-workspace`) and says where.
    pub fn keep(mut self) -> PathBuf {
        if let Some(root) = self.root.take() {
            let _ = root.keep();
        }
        self.path.clone()
    }
}

fn link_tree(from: &Path, to: &Path) -> io::Result<()> {
    for entry in WalkDir::new(from) {
        let entry = entry.map_err(io::Error::other)?;
        let relative = entry.path().strip_prefix(from).map_err(io::Error::other)?;
        let target = to.join(relative);
        let kind = entry.file_type();
        if kind.is_dir() {
            std::fs::create_dir_all(&target)?;
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(entry.path())?, &target)?;
        } else {
            std::fs::hard_link(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with one commit of `count` files; its tree.
    fn repository(dir: &Path, count: usize) -> (SourceRepo, Oid) {
        let repo = git2::Repository::init(dir).expect("init");
        let mut builder = repo.treebuilder(None).expect("tree");
        for index in 0..count {
            let blob = repo.blob(format!("{index}\n").as_bytes()).expect("blob");
            builder
                .insert(format!("f{index}"), blob, 0o100644)
                .expect("insert");
        }
        let tree = builder.write().expect("write");
        (SourceRepo::open(dir, false).expect("open"), tree)
    }

    #[test]
    fn a_stopped_export_leaves_nothing_behind() {
        let (source, temp) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let (repo, tree) = repository(source.path(), 20);
        let stopped = Checkouts::export(&repo, tree, temp.path(), &AtomicBool::new(true));
        assert!(
            matches!(stopped, Err(GitError::Stopped)),
            "{:?}",
            stopped.err()
        );
        let left: Vec<_> = std::fs::read_dir(temp.path()).expect("read").collect();
        assert!(left.is_empty(), "the stopped export left {left:?}");

        let exported =
            Checkouts::export(&repo, tree, temp.path(), &AtomicBool::new(false)).expect("export");
        assert_eq!(exported.files, 20);
        assert!(exported.root().starts_with(temp.path()));
    }
}
