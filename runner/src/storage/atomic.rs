//! Writing files so that readers see the old content or the new, never half of either.

use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tempfile::NamedTempFile;

/// Writes `bytes` to `path` through a synced temporary file renamed over it.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = temporary_sibling(path)?;
    file.write_all(bytes)?;
    persist(file, path)
}

/// Writes `bytes` to `path` through a temporary file renamed over it, without syncing.
/// Readers, and a process killed at any moment, still see the old content or the new; a
/// power cut before the kernel writes the file back may leave neither. For records that
/// mean nothing after a reboot (the owner of a run) or that a synced write replaces at the
/// end of the run (the first `run.json`): two syncs each are a millisecond or more before
/// the first job may start.
pub fn write_atomically_unsynced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = temporary_sibling(path)?;
    file.write_all(bytes)?;
    file.persist(path).map(drop).map_err(|error| error.error)
}

/// A temporary file in `path`'s directory: a rename only stays atomic within one file system.
pub(crate) fn temporary_sibling(path: &Path) -> io::Result<NamedTempFile> {
    let file = NamedTempFile::new_in(parent_dir(path))?;
    // tempfile creates files as 0600; reports and archives are meant to be read by others too.
    file.as_file()
        .set_permissions(Permissions::from_mode(0o644))?;
    Ok(file)
}

/// Syncs a file made by [`temporary_sibling`] and renames it to `path`.
pub(crate) fn persist(file: NamedTempFile, path: &Path) -> io::Result<()> {
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    // The rename itself is only durable once the directory is synced. Some file systems
    // refuse to sync a directory; the data is already safe then, so that is not an error.
    if let Ok(directory) = File::open(parent_dir(path)) {
        let _ = directory.sync_all();
    }
    Ok(())
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_existing_content_and_leaves_no_temporary_file() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("run.json");
        std::fs::write(&path, "old")?;

        write_atomically(&path, b"new")?;

        assert_eq!(std::fs::read_to_string(&path)?, "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<io::Result<_>>()?;
        assert_eq!(names, ["run.json"]);
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        Ok(())
    }

    #[test]
    fn unsynced_replaces_existing_content_and_leaves_no_temporary_file() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("owner.json");
        std::fs::write(&path, "old")?;

        write_atomically_unsynced(&path, b"new")?;

        assert_eq!(std::fs::read_to_string(&path)?, "new");
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .map(|entry| entry.map(|entry| entry.file_name()))
            .collect::<io::Result<_>>()?;
        assert_eq!(names, ["owner.json"]);
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        Ok(())
    }

    #[test]
    fn fails_when_the_directory_is_missing() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("missing/run.json");
        assert!(write_atomically(&path, b"{}").is_err());
        assert!(write_atomically_unsynced(&path, b"{}").is_err());
        Ok(())
    }
}
