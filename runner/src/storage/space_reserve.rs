//! Disk space set aside at the start of a run so its reports can still be written when the
//! jobs' logs fill the disk.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

/// How much the reserve holds: room for `run.json` and a JUnit report of a dozen jobs (each
/// job's `<system-out>` is at most 64 KiB).
pub const REPORT_RESERVE_BYTES: usize = 1024 * 1024;

/// A file of zeros; dropping it removes the file and gives its blocks back, just before the
/// reports are written or when the run ends any other way.
#[derive(Debug)]
pub struct SpaceReserve {
    path: PathBuf,
}

impl SpaceReserve {
    /// Writes `bytes` zeros to `path`. `None` when the disk cannot spare them now: the run
    /// goes on without a reserve (a sparse file or `fallocate` would not hold real blocks on
    /// every file system, so the zeros are written). Not synced: ext4, XFS and btrfs count
    /// a buffered write against the free space when it is made, and tmpfs holds the pages,
    /// so the blocks are held from here on; a sync would only put 1 MiB on the disk, on
    /// every run, to be discarded at its end.
    pub fn claim(path: PathBuf, bytes: usize) -> Option<SpaceReserve> {
        let reserve = SpaceReserve { path };
        let written =
            File::create(&reserve.path).and_then(|mut file| file.write_all(&vec![0u8; bytes]));
        // On failure, dropping `reserve` removes what was written of it.
        written.ok().map(|()| reserve)
    }
}

impl Drop for SpaceReserve {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_the_space_until_released() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join(".space-reserve");
        let reserve = SpaceReserve::claim(path.clone(), 4096).ok_or(std::io::ErrorKind::Other)?;
        assert_eq!(std::fs::metadata(&path)?.len(), 4096);
        drop(reserve);
        assert!(!path.exists());
        Ok(())
    }

    #[test]
    fn a_reserve_that_cannot_be_written_leaves_nothing() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("missing/.space-reserve");
        assert!(SpaceReserve::claim(path.clone(), 4096).is_none());
        assert!(!path.exists());
        Ok(())
    }
}
