//! A re-run's reused jobs keep their files: `artifacts/<job>.tar.zst` and `logs/<job>.log`
//! are brought over from the earlier run folder, so that the new one is complete on its
//! own and the dependents unpack the archive as usual; and the shared root as the earlier
//! run left it, since a reused job may have written anywhere in it (the paper's password
//! generator writes into its dependents' `shared/<job>/.env`).
//!
//! The archive and the log are hard links: nothing writes them once their run is over, so
//! the two folders can share them, at no cost in space or time, and the new run keeps them
//! when the earlier folder is deleted (retention). The shared root is copied: jobs may
//! write into it, and a write of the re-run must not change what the earlier run left.
//! Where a link is refused (another file system), the file is copied.

use super::run_folder::RunFolder;
use std::io;
use std::path::{Path, PathBuf};

/// Why a reused job's files could not be brought over.
#[derive(Debug, thiserror::Error)]
#[error("failed to bring `{}` over into `{}`", from.display(), to.display())]
pub struct ReusedFilesError {
    pub from: PathBuf,
    pub to: PathBuf,
    pub source: io::Error,
}

/// Brings the shared root from `earlier` into `folder`, and the archive and log of each of
/// `reused`; what the earlier run did not leave (a job that printed nothing, packed
/// nothing) is not there either.
pub fn bring_over(
    earlier: &RunFolder,
    folder: &RunFolder,
    reused: &[&str],
) -> Result<(), ReusedFilesError> {
    for job in reused {
        link_or_copy(&earlier.artifact_path(job), &folder.artifact_path(job))?;
        link_or_copy(&earlier.log_path(job), &folder.log_path(job))?;
    }
    if earlier.shared_root().is_dir() {
        copy_tree(earlier.shared_root(), folder.shared_root())?;
    }
    Ok(())
}

fn failed(from: &Path, to: &Path) -> impl FnOnce(io::Error) -> ReusedFilesError {
    let (from, to) = (from.to_owned(), to.to_owned());
    move |source| ReusedFilesError { from, to, source }
}

fn link_or_copy(from: &Path, to: &Path) -> Result<(), ReusedFilesError> {
    match std::fs::symlink_metadata(from) {
        Ok(meta) if meta.is_file() => {}
        // Not left by the earlier run; a symlink there is none of ours to follow.
        Ok(_) => return Ok(()),
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(failed(from, to)(error)),
    }
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(failed(from, to))
}

/// Copies the tree under `from` into the existing folder `to`: folders, files, and symbolic
/// links as links (never followed, so nothing outside the earlier run is read).
fn copy_tree(from: &Path, to: &Path) -> Result<(), ReusedFilesError> {
    let entries = std::fs::read_dir(from).map_err(failed(from, to))?;
    for entry in entries {
        let entry = entry.map_err(failed(from, to))?;
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().map_err(failed(&source, &target))?;
        if kind.is_dir() {
            // The new run made `shared/<job>/` for every job already.
            if !target.is_dir() {
                std::fs::create_dir(&target).map_err(failed(&source, &target))?;
            }
            copy_tree(&source, &target)?;
        } else if kind.is_symlink() {
            let points_to = std::fs::read_link(&source).map_err(failed(&source, &target))?;
            std::os::unix::fs::symlink(points_to, &target).map_err(failed(&source, &target))?;
        } else if kind.is_file() {
            std::fs::copy(&source, &target).map_err(failed(&source, &target))?;
        }
        // Sockets and pipes belonged to processes of the earlier run: nothing to copy.
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn archives_and_logs_are_shared_and_the_shared_root_is_a_copy()
    -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let earlier = RunFolder::create(dir.path(), &["build", "test"])?;
        // Written by `build` into its dependent's folder, and `test`'s own log, not reused.
        std::fs::write(earlier.job_env_file("test"), b"FROM_BUILD=1\n")?;
        std::fs::write(earlier.log_path("test"), b"failed\n")?;
        std::fs::write(earlier.artifact_path("build"), b"archive")?;
        std::fs::write(earlier.log_path("build"), b"built\n")?;
        let shared = earlier.job_shared_dir("build");
        std::fs::create_dir(shared.join("out"))?;
        std::fs::write(shared.join("out/version"), b"1.2.3")?;
        std::fs::write(shared.join(".env"), b"VERSION=1.2.3\n")?;
        std::os::unix::fs::symlink("out/version", shared.join("current"))?;

        let folder = RunFolder::create(dir.path(), &["build", "test"])?;
        bring_over(&RunFolder::existing(earlier.root()), &folder, &["build"])?;

        let inode = |path: &Path| std::fs::metadata(path).map(|meta| meta.ino());
        assert_eq!(
            inode(&folder.artifact_path("build"))?,
            inode(&earlier.artifact_path("build"))?
        );
        assert_eq!(std::fs::read(folder.log_path("build"))?, b"built\n");
        let copied = folder.job_shared_dir("build");
        assert_eq!(std::fs::read(copied.join("out/version"))?, b"1.2.3");
        assert_eq!(std::fs::read(copied.join(".env"))?, b"VERSION=1.2.3\n");
        assert_eq!(
            std::fs::read_link(copied.join("current"))?,
            Path::new("out/version")
        );
        assert_eq!(
            std::fs::read(folder.job_env_file("test"))?,
            b"FROM_BUILD=1\n"
        );
        assert!(
            !folder.log_path("test").exists(),
            "a job run again writes its own log"
        );
        // A write of the re-run leaves the earlier run's folder as it was.
        std::fs::write(copied.join("out/version"), b"changed")?;
        assert_eq!(std::fs::read(shared.join("out/version"))?, b"1.2.3");
        Ok(())
    }

    #[test]
    fn what_the_earlier_run_did_not_leave_is_not_an_error() -> Result<(), Box<dyn std::error::Error>>
    {
        let dir = tempfile::tempdir()?;
        let earlier = RunFolder::create(dir.path(), &[])?;
        let folder = RunFolder::create(dir.path(), &["quiet"])?;
        bring_over(&RunFolder::existing(earlier.root()), &folder, &["quiet"])?;
        assert!(!folder.artifact_path("quiet").exists());
        assert!(!folder.log_path("quiet").exists());
        Ok(())
    }
}
