//! Unpacking an artifact archive into a job's source tree, trusting nothing in it.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use tar::EntryType;

use super::artifact_error::ArtifactError;
use super::artifacts::check_symlink_target;
use super::destination_paths::{
    check_hard_link_original, ensure_directory, prepare_parents, remove_non_directory,
    safe_relative_path,
};

/// Room for headers, long names and padding on top of the content bytes, per entry.
const STREAM_OVERHEAD_PER_ENTRY: u64 = 4096;

/// How much an archive may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Total content bytes of all files.
    pub max_bytes: u64,
    /// Entries of any kind.
    pub max_entries: u64,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        ExtractLimits {
            max_bytes: 10 * 1024 * 1024 * 1024,
            max_entries: 1_000_000,
        }
    }
}

/// What [`unpack`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackSummary {
    /// Entries of any kind.
    pub entries: u64,
    /// Regular files written.
    pub files: u64,
    /// Content bytes written.
    pub bytes: u64,
}

/// Unpacks a tar + zstd `archive` into `destination`, refusing anything that could land outside it.
pub fn unpack(
    archive: &Path,
    destination: &Path,
    limits: &ExtractLimits,
) -> Result<UnpackSummary, ArtifactError> {
    let file = File::open(archive).map_err(|source| ArtifactError::ReadArchive {
        path: archive.to_owned(),
        source,
    })?;
    unpack_from(file, archive, destination, limits)
}

/// [`unpack`] from a stream (an [`ArtifactStore`](super::ArtifactStore)'s); `archive`
/// names it in errors.
pub fn unpack_from(
    file: impl Read,
    archive: &Path,
    destination: &Path,
    limits: &ExtractLimits,
) -> Result<UnpackSummary, ArtifactError> {
    let read_error = |source| ArtifactError::ReadArchive {
        path: archive.to_owned(),
        source,
    };
    let decoder = zstd::stream::read::Decoder::new(file).map_err(read_error)?;
    // Headers lie and skipped entries are still decompressed, so the stream itself is capped too.
    let stream_limit = limits
        .max_bytes
        .saturating_add(limits.max_entries.saturating_mul(STREAM_OVERHEAD_PER_ENTRY));
    let exceeded = Rc::new(Cell::new(false));
    let mut tar = tar::Archive::new(CappedReader {
        inner: decoder,
        remaining: stream_limit,
        exceeded: Rc::clone(&exceeded),
    });
    std::fs::create_dir_all(destination).map_err(|source| ArtifactError::Extract {
        path: destination.to_owned(),
        source,
    })?;
    let too_large = || ArtifactError::TooLarge {
        path: archive.to_owned(),
        limit: limits.max_bytes,
    };

    let mut summary = UnpackSummary::default();
    let entries = tar.entries().map_err(read_error)?;
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(_) if exceeded.get() => return Err(too_large()),
            Err(source) => return Err(read_error(source)),
        };
        summary.entries += 1;
        if summary.entries > limits.max_entries {
            return Err(ArtifactError::TooManyEntries {
                path: archive.to_owned(),
                limit: limits.max_entries,
            });
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let refuse = |reason: String| ArtifactError::Refused {
            entry: name.clone(),
            reason,
        };
        let relative = entry
            .path()
            .map_err(|error| refuse(error.to_string()))
            .and_then(|path| safe_relative_path(&path).map_err(refuse))?;
        let target = destination.join(&relative);
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Regular | EntryType::Continuous => {
                if relative.as_os_str().is_empty() {
                    return Err(refuse("a file cannot replace the destination".to_owned()));
                }
                prepare_parents(destination, &relative).map_err(refuse)?;
                remove_non_directory(&target).map_err(refuse)?;
                let written = write_file(
                    &mut entry,
                    &target,
                    limits.max_bytes.saturating_sub(summary.bytes),
                );
                match written {
                    Ok(bytes) => summary.bytes += bytes,
                    Err(WriteError::Budget) => return Err(too_large()),
                    Err(WriteError::Io(_)) if exceeded.get() => return Err(too_large()),
                    Err(WriteError::Io(source)) => {
                        return Err(ArtifactError::Extract {
                            path: target,
                            source,
                        });
                    }
                }
                summary.files += 1;
            }
            EntryType::Directory => {
                if !relative.as_os_str().is_empty() {
                    prepare_parents(destination, &relative).map_err(refuse)?;
                    ensure_directory(destination, &relative).map_err(refuse)?;
                }
            }
            EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(|error| refuse(error.to_string()))?
                    .ok_or_else(|| refuse("symlink without a target".to_owned()))?
                    .into_owned();
                check_symlink_target(&relative, &link).map_err(refuse)?;
                prepare_parents(destination, &relative).map_err(refuse)?;
                remove_non_directory(&target).map_err(refuse)?;
                std::os::unix::fs::symlink(&link, &target).map_err(|source| {
                    ArtifactError::Extract {
                        path: target,
                        source,
                    }
                })?;
            }
            EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(|error| refuse(error.to_string()))?
                    .ok_or_else(|| refuse("hard link without a target".to_owned()))?;
                let original = safe_relative_path(&link)
                    .map_err(|reason| refuse(format!("hard link target: {reason}")))?;
                check_hard_link_original(destination, &original).map_err(refuse)?;
                prepare_parents(destination, &relative).map_err(refuse)?;
                remove_non_directory(&target).map_err(refuse)?;
                std::fs::hard_link(destination.join(&original), &target).map_err(|source| {
                    ArtifactError::Extract {
                        path: target,
                        source,
                    }
                })?;
            }
            // Carries metadata (comments, charset) for the whole archive, nothing to write.
            EntryType::XGlobalHeader => {}
            other => {
                return Err(refuse(format!(
                    "unsupported entry type {other:?} (devices, FIFOs and sparse files are not artifacts)"
                )));
            }
        }
    }
    Ok(summary)
}

enum WriteError {
    Budget,
    Io(io::Error),
}

/// Copies the entry's content, counting what is actually read rather than what the header says.
fn write_file(
    entry: &mut tar::Entry<'_, impl Read>,
    path: &Path,
    budget: u64,
) -> Result<u64, WriteError> {
    let header = entry.header();
    // Set-id and sticky bits have no business in a build output.
    let mode = header.mode().map(|mode| mode & 0o777).unwrap_or(0o644);
    let modified = header
        .mtime()
        .ok()
        .map(|seconds| UNIX_EPOCH + Duration::from_secs(seconds));
    // O_EXCL refuses to follow a symlink created behind our back since the path was cleared.
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(WriteError::Io)?;
    let mut buffer = vec![0; 64 * 1024];
    let mut written: u64 = 0;
    loop {
        let read = entry.read(&mut buffer).map_err(WriteError::Io)?;
        if read == 0 {
            break;
        }
        written += read as u64;
        if written > budget {
            return Err(WriteError::Budget);
        }
        file.write_all(&buffer[..read]).map_err(WriteError::Io)?;
    }
    if let Some(modified) = modified {
        file.set_modified(modified).map_err(WriteError::Io)?;
    }
    Ok(written)
}

/// Fails once more than `remaining` bytes have come out of the decompressor.
struct CappedReader<R> {
    inner: R,
    remaining: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        match self.remaining.checked_sub(read as u64) {
            Some(remaining) => {
                self.remaining = remaining;
                Ok(read)
            }
            None => {
                self.exceeded.set(true);
                Err(io::Error::other("archive expands beyond the unpack limit"))
            }
        }
    }
}

#[cfg(test)]
mod tests;
