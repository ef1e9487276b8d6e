//! Where a run keeps the archives its jobs hand on. The run folder is the first store
//! (`artifacts/<job>.tar.zst`, spec 3); an object store is the next. Archives stream in
//! and out: nothing holds a whole archive in memory, and a put is all or nothing.

use super::artifact_error::ArtifactError;
use super::artifacts::{PackSummary, pack};
use super::extract::{ExtractLimits, UnpackSummary, unpack_from};
use super::run_folder::RunFolder;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A run's archives, one per job that declares `artifacts`.
pub trait ArtifactStore: Send + Sync {
    /// Packs what `patterns` select in `tree` as `job`'s archive, streamed into the store.
    /// Readers see the whole archive or none.
    fn put(
        &self,
        job: &str,
        tree: &Path,
        patterns: &[String],
    ) -> Result<PackSummary, ArtifactError>;

    /// A stream of `job`'s archive.
    fn get(&self, job: &str) -> Result<Box<dyn Read + Send>, ArtifactError>;

    /// Where `job`'s archive is, as `run.json` names it and errors show it.
    fn location(&self, job: &str) -> PathBuf;

    /// Unpacks `job`'s archive into `destination`, within `limits`.
    fn unpack(
        &self,
        job: &str,
        destination: &Path,
        limits: &ExtractLimits,
    ) -> Result<UnpackSummary, ArtifactError> {
        let stream = self.get(job)?;
        unpack_from(stream, &self.location(job), destination, limits)
    }
}

/// The run folder's `artifacts/` as a store.
#[derive(Clone)]
pub struct FolderStore(pub Arc<RunFolder>);

impl ArtifactStore for FolderStore {
    fn put(
        &self,
        job: &str,
        tree: &Path,
        patterns: &[String],
    ) -> Result<PackSummary, ArtifactError> {
        pack(tree, patterns, &self.location(job))
    }

    fn get(&self, job: &str) -> Result<Box<dyn Read + Send>, ArtifactError> {
        let path = self.location(job);
        let file =
            File::open(&path).map_err(|source| ArtifactError::ReadArchive { path, source })?;
        Ok(Box::new(file))
    }

    fn location(&self, job: &str) -> PathBuf {
        self.0.artifact_path(job)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_put_comes_back_out() {
        let dir = tempfile::tempdir().expect("tmp");
        let folder = Arc::new(RunFolder::create(dir.path(), &["build"]).expect("folder"));
        let store = FolderStore(folder);
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("out")).expect("mkdir");
        std::fs::write(tree.join("out/app"), b"binary").expect("write");
        let summary = store
            .put("build", &tree, &["out".to_string()])
            .expect("put");
        assert_eq!((summary.files, summary.bytes), (1, 6));
        assert!(
            store.location("build").ends_with("build.tar.zst"),
            "{:?}",
            store.location("build")
        );
        let destination = dir.path().join("dest");
        std::fs::create_dir(&destination).expect("mkdir");
        store
            .unpack("build", &destination, &ExtractLimits::default())
            .expect("unpack");
        assert_eq!(
            std::fs::read(destination.join("out/app")).expect("read"),
            b"binary"
        );
        assert!(matches!(
            store.get("nobody"),
            Err(ArtifactError::ReadArchive { .. })
        ));
    }
}
