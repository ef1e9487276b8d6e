//! Unpacking an artifact archive into a job's source tree, trusting nothing in it.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, UNIX_EPOCH};

use tar::EntryType;

use super::artifact_error::ArtifactError;
use super::artifacts::check_symlink_target;

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
    let read_error = |source| ArtifactError::ReadArchive {
        path: archive.to_owned(),
        source,
    };
    let file = File::open(archive).map_err(read_error)?;
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

/// The entry's path with `.` dropped; absolute paths and `..` are refused.
fn safe_relative_path(path: &Path) -> Result<PathBuf, String> {
    let mut relative = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("path contains `..`".to_owned()),
            Component::RootDir | Component::Prefix(_) => return Err("path is absolute".to_owned()),
        }
    }
    Ok(relative)
}

/// Makes sure every folder above `relative` is a real folder, creating missing ones, so that
/// nothing is written through a symlink, whether it came from the archive or was already there.
fn prepare_parents(destination: &Path, relative: &Path) -> Result<(), String> {
    let Some(parent) = relative.parent() else {
        return Ok(());
    };
    let mut prefix = PathBuf::new();
    for component in parent.components() {
        prefix.push(component);
        ensure_directory(destination, &prefix)?;
    }
    Ok(())
}

pub(super) fn ensure_directory(destination: &Path, relative: &Path) -> Result<(), String> {
    let path = destination.join(relative);
    // Made first, inspected only if taken: mkdir never follows a symlink at its path.
    match std::fs::create_dir(&path) {
        Ok(()) => return Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
        Err(error) => {
            return Err(format!(
                "failed to create `{}`: {error}",
                relative.display()
            ));
        }
    }
    match std::fs::symlink_metadata(&path) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(metadata) if metadata.is_symlink() => Err(format!(
            "`{}` is a symlink and would be written through",
            relative.display()
        )),
        Ok(_) => Err(format!(
            "`{}` exists and is not a folder",
            relative.display()
        )),
        Err(error) => Err(format!(
            "failed to inspect `{}`: {error}",
            relative.display()
        )),
    }
}

/// Clears the way for a file or link: an old file or symlink is unlinked, never written through.
pub(super) fn remove_non_directory(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => Err("would replace a folder".to_owned()),
        Ok(_) => {
            std::fs::remove_file(path).map_err(|error| format!("failed to replace it: {error}"))
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(format!("failed to inspect it: {error}")),
    }
}

/// A hard link may only share a regular file reachable inside the destination without symlinks.
fn check_hard_link_original(destination: &Path, original: &Path) -> Result<(), String> {
    if original.as_os_str().is_empty() {
        return Err("hard link to the destination itself".to_owned());
    }
    let mut prefix = PathBuf::new();
    for component in original.components() {
        prefix.push(component);
        let metadata = std::fs::symlink_metadata(destination.join(&prefix))
            .map_err(|_| format!("hard link target `{}` does not exist", original.display()))?;
        if metadata.is_symlink() {
            return Err(format!(
                "hard link target `{}` goes through a symlink",
                original.display()
            ));
        }
        if prefix == original && !metadata.is_file() {
            return Err(format!(
                "hard link target `{}` is not a file",
                original.display()
            ));
        }
    }
    Ok(())
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
mod tests {
    use super::*;
    use crate::storage::pack;
    use std::os::unix::fs::{PermissionsExt, symlink};
    use tar::Header;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// An entry written header byte by header byte, bypassing the checks `tar` makes on paths.
    struct RawEntry<'a> {
        name: &'a [u8],
        kind: EntryType,
        link: &'a [u8],
        data: &'a [u8],
    }

    fn raw(name: &'static str, kind: EntryType, link: &'static str) -> RawEntry<'static> {
        RawEntry {
            name: name.as_bytes(),
            kind,
            link: link.as_bytes(),
            data: if kind == EntryType::Regular {
                b"pwned"
            } else {
                b""
            },
        }
    }

    fn hostile_archive(path: &Path, entries: &[RawEntry<'_>]) -> TestResult {
        let mut builder = tar::Builder::new(Vec::new());
        for entry in entries {
            let mut header = Header::new_gnu();
            let gnu = header.as_gnu_mut().ok_or("not a GNU header")?;
            gnu.name[..entry.name.len()].copy_from_slice(entry.name);
            gnu.linkname[..entry.link.len()].copy_from_slice(entry.link);
            header.set_entry_type(entry.kind);
            header.set_size(entry.data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append(&header, entry.data)?;
        }
        let tar = builder.into_inner()?;
        std::fs::write(path, zstd::encode_all(tar.as_slice(), 3)?)?;
        Ok(())
    }

    /// A scratch folder holding `dest/`, `outside/secret` and the archive, side by side.
    fn scratch() -> Result<tempfile::TempDir, io::Error> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("dest"))?;
        std::fs::create_dir_all(dir.path().join("outside"))?;
        std::fs::write(dir.path().join("outside/secret"), "secret")?;
        Ok(dir)
    }

    /// Every path under `root`, relative, so a test can assert nothing new appeared.
    fn listing(root: &Path) -> Vec<PathBuf> {
        walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
            .filter_map(|entry| entry.path().strip_prefix(root).ok().map(Path::to_owned))
            .filter(|path| !path.starts_with("dest"))
            .collect()
    }

    #[test]
    fn hostile_entries_are_refused_and_nothing_lands_outside() -> TestResult {
        let absolute_name = format!("{}/pipekit-abs-pwned", std::env::temp_dir().display());
        assert!(
            absolute_name.len() < 100,
            "the temporary folder's path is too long for this test"
        );
        let absolute_name: &'static str = absolute_name.leak();
        let cases = [
            vec![raw("../pwned", EntryType::Regular, "")],
            vec![raw(absolute_name, EntryType::Regular, "")],
            vec![raw("a/../../pwned", EntryType::Regular, "")],
            vec![raw("ok/../../outside/pwned", EntryType::Directory, "")],
            vec![raw("up", EntryType::Symlink, "../outside")],
            vec![raw("etc", EntryType::Symlink, "/etc")],
            vec![raw("sneaky", EntryType::Symlink, "dir/../..")],
            vec![raw("deep/up", EntryType::Symlink, "../../outside")],
            vec![raw("hard", EntryType::Link, "../outside/secret")],
            vec![raw("hard", EntryType::Link, "/etc/passwd")],
            vec![raw("fifo", EntryType::Fifo, "")],
            vec![raw("tty", EntryType::Char, "")],
            vec![raw("disk", EntryType::Block, "")],
            // A link that would be fine on its own, followed by a write through it.
            vec![
                raw("inside", EntryType::Symlink, "."),
                raw("inside/pwned", EntryType::Regular, ""),
            ],
        ];
        for entries in cases {
            let dir = scratch()?;
            let archive = dir.path().join("hostile.tar.zst");
            hostile_archive(&archive, &entries)?;
            let before = listing(dir.path());

            let result = unpack(
                &archive,
                &dir.path().join("dest"),
                &ExtractLimits::default(),
            );

            let names: Vec<_> = entries
                .iter()
                .map(|entry| String::from_utf8_lossy(entry.name))
                .collect();
            assert!(
                matches!(result, Err(ArtifactError::Refused { .. })),
                "{names:?}: {result:?}"
            );
            assert_eq!(listing(dir.path()), before, "{names:?}");
            assert_eq!(
                std::fs::read_to_string(dir.path().join("outside/secret"))?,
                "secret"
            );
            assert!(!Path::new(absolute_name).exists());
        }
        Ok(())
    }

    #[test]
    fn refusal_names_the_entry() -> TestResult {
        let dir = scratch()?;
        let archive = dir.path().join("hostile.tar.zst");
        hostile_archive(&archive, &[raw("a/../../pwned", EntryType::Regular, "")])?;
        let message = unpack(
            &archive,
            &dir.path().join("dest"),
            &ExtractLimits::default(),
        )
        .map_err(|error| error.to_string());
        assert_eq!(
            message,
            Err("refused archive entry `a/../../pwned`: path contains `..`".to_owned())
        );
        Ok(())
    }

    #[test]
    fn symlinks_already_in_the_destination_are_never_written_through() -> TestResult {
        let dir = scratch()?;
        let dest = dir.path().join("dest");
        symlink("../outside", dest.join("escape"))?;
        symlink("../outside/secret", dest.join("secret-link"))?;
        let archive = dir.path().join("hostile.tar.zst");

        hostile_archive(&archive, &[raw("escape/pwned", EntryType::Regular, "")])?;
        let result = unpack(&archive, &dest, &ExtractLimits::default());
        assert!(
            matches!(result, Err(ArtifactError::Refused { .. })),
            "{result:?}"
        );
        assert!(!dir.path().join("outside/pwned").exists());

        hostile_archive(&archive, &[raw("hard", EntryType::Link, "secret-link")])?;
        let result = unpack(&archive, &dest, &ExtractLimits::default());
        assert!(
            matches!(result, Err(ArtifactError::Refused { .. })),
            "{result:?}"
        );

        // A file entry replaces the link itself instead of writing into its target.
        hostile_archive(&archive, &[raw("secret-link", EntryType::Regular, "")])?;
        unpack(&archive, &dest, &ExtractLimits::default())?;
        assert_eq!(std::fs::read_to_string(dest.join("secret-link"))?, "pwned");
        assert!(!std::fs::symlink_metadata(dest.join("secret-link"))?.is_symlink());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("outside/secret"))?,
            "secret"
        );
        Ok(())
    }

    #[test]
    fn limits_count_bytes_and_entries() -> TestResult {
        let dir = scratch()?;
        let archive = dir.path().join("big.tar.zst");
        let big = vec![b'x'; 10_000];
        hostile_archive(
            &archive,
            &[
                RawEntry {
                    name: b"big",
                    kind: EntryType::Regular,
                    link: b"",
                    data: &big,
                },
                raw("dir", EntryType::Directory, ""),
                raw("dir/other", EntryType::Regular, ""),
            ],
        )?;
        let dest = dir.path().join("dest");

        let bytes = ExtractLimits {
            max_bytes: 9_999,
            ..ExtractLimits::default()
        };
        assert!(matches!(
            unpack(&archive, &dest, &bytes),
            Err(ArtifactError::TooLarge { .. })
        ));
        let entries = ExtractLimits {
            max_entries: 2,
            ..ExtractLimits::default()
        };
        assert!(matches!(
            unpack(&archive, &dest, &entries),
            Err(ArtifactError::TooManyEntries { .. })
        ));
        let summary = unpack(&archive, &dest, &ExtractLimits::default())?;
        assert_eq!(
            summary,
            UnpackSummary {
                entries: 3,
                files: 2,
                bytes: 10_005
            }
        );
        Ok(())
    }

    #[test]
    fn a_zstd_bomb_is_stopped_at_the_byte_limit() -> TestResult {
        let dir = scratch()?;
        let archive = dir.path().join("bomb.tar.zst");
        let claimed: u64 = 16 * 1024 * 1024;
        let mut builder = tar::Builder::new(zstd::stream::write::Encoder::new(
            File::create(&archive)?,
            19,
        )?);
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_size(claimed);
        header.set_mode(0o644);
        builder.append_data(&mut header, "zeros", io::repeat(0).take(claimed))?;
        builder.into_inner()?.finish()?;
        let limit = 256 * 1024;
        let limits = ExtractLimits {
            max_bytes: limit,
            ..ExtractLimits::default()
        };

        let result = unpack(&archive, &dir.path().join("dest"), &limits);

        assert!(
            std::fs::metadata(&archive)?.len() < claimed / 1000,
            "not a bomb"
        );
        assert!(
            matches!(result, Err(ArtifactError::TooLarge { .. })),
            "{result:?}"
        );
        let written = std::fs::metadata(dir.path().join("dest/zeros")).map_or(0, |m| m.len());
        assert!(written <= limit, "{written} bytes written");
        Ok(())
    }

    #[test]
    fn a_flood_of_tiny_entries_is_stopped_at_the_entry_limit() -> TestResult {
        let dir = scratch()?;
        let archive = dir.path().join("flood.tar.zst");
        let names: Vec<String> = (0..1_000).map(|index| format!("tiny-{index}")).collect();
        let entries: Vec<RawEntry<'_>> = names
            .iter()
            .map(|name| RawEntry {
                name: name.as_bytes(),
                kind: EntryType::Regular,
                link: b"",
                data: b"",
            })
            .collect();
        hostile_archive(&archive, &entries)?;
        let limits = ExtractLimits {
            max_entries: 999,
            ..ExtractLimits::default()
        };

        let result = unpack(&archive, &dir.path().join("dest"), &limits);

        assert!(
            matches!(
                result,
                Err(ArtifactError::TooManyEntries { limit: 999, .. })
            ),
            "{result:?}"
        );
        assert_eq!(std::fs::read_dir(dir.path().join("dest"))?.count(), 999);
        Ok(())
    }

    #[test]
    fn data_hidden_behind_a_folder_entry_still_counts() -> TestResult {
        let dir = scratch()?;
        let archive = dir.path().join("padded.tar.zst");
        let padding = vec![0; 100_000];
        hostile_archive(
            &archive,
            &[
                RawEntry {
                    name: b"padded",
                    kind: EntryType::Directory,
                    link: b"",
                    data: &padding,
                },
                raw("after", EntryType::Regular, ""),
            ],
        )?;
        let limits = ExtractLimits {
            max_bytes: 100,
            max_entries: 2,
        };
        let result = unpack(&archive, &dir.path().join("dest"), &limits);
        assert!(
            matches!(result, Err(ArtifactError::TooLarge { .. })),
            "{result:?}"
        );
        Ok(())
    }

    #[test]
    fn a_packed_tree_unpacks_identically() -> TestResult {
        let dir = tempfile::tempdir()?;
        let source = dir.path().join("source");
        std::fs::create_dir_all(source.join("out/nested/deeper"))?;
        std::fs::create_dir_all(source.join("out/empty"))?;
        std::fs::write(source.join("out/top.txt"), "top")?;
        std::fs::write(source.join("out/nested/deeper/leaf.txt"), "leaf")?;
        std::fs::write(source.join("out/run.sh"), "#!/bin/sh\n")?;
        std::fs::set_permissions(
            source.join("out/run.sh"),
            std::fs::Permissions::from_mode(0o755),
        )?;
        symlink("nested/deeper/leaf.txt", source.join("out/leaf-link"))?;
        std::fs::write(source.join("not-an-artifact.txt"), "no")?;
        let archive = dir.path().join("out.tar.zst");

        let packed = pack(&source, &["out".to_owned()], &archive)?;
        let destination = dir.path().join("destination");
        let unpacked = unpack(&archive, &destination, &ExtractLimits::default())?;

        assert_eq!(
            (packed.files, packed.bytes),
            (unpacked.files, unpacked.bytes)
        );
        let out = destination.join("out");
        assert_eq!(std::fs::read_to_string(out.join("top.txt"))?, "top");
        assert_eq!(
            std::fs::read_to_string(out.join("nested/deeper/leaf.txt"))?,
            "leaf"
        );
        assert_eq!(
            std::fs::read_link(out.join("leaf-link"))?,
            Path::new("nested/deeper/leaf.txt")
        );
        assert_eq!(std::fs::read_to_string(out.join("leaf-link"))?, "leaf");
        assert!(out.join("empty").is_dir());
        assert_eq!(
            std::fs::metadata(out.join("run.sh"))?.permissions().mode() & 0o777,
            0o755
        );
        assert!(!destination.join("not-an-artifact.txt").exists());

        // Unpacking again over the same tree replaces rather than fails.
        unpack(&archive, &destination, &ExtractLimits::default())?;
        Ok(())
    }

    #[test]
    fn a_corrupt_archive_is_a_read_error() -> TestResult {
        let dir = scratch()?;
        let archive = dir.path().join("corrupt.tar.zst");
        std::fs::write(&archive, b"definitely not zstd")?;
        let result = unpack(
            &archive,
            &dir.path().join("dest"),
            &ExtractLimits::default(),
        );
        assert!(
            matches!(result, Err(ArtifactError::ReadArchive { .. })),
            "{result:?}"
        );
        Ok(())
    }
}
