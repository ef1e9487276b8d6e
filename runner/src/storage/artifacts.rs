//! Packing a job's artifacts into `artifacts/<job>.tar.zst`.

use std::fs::{File, FileType, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};

use tar::{EntryType, Header};
use walkdir::WalkDir;

use super::artifact_error::ArtifactError;
use super::artifact_selection::{ArtifactSelection, worth_entering};
use super::atomic::{persist, temporary_sibling};

/// zstd's default level: fast enough to pack on every successful job.
const COMPRESSION_LEVEL: i32 = 3;

/// What [`pack`] put into an archive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PackSummary {
    /// Regular files packed.
    pub files: u64,
    /// Their total size, uncompressed.
    pub bytes: u64,
    /// The size of the archive.
    pub compressed_bytes: u64,
}

/// Packs what `patterns` (paths or globs relative to `source_tree`) match into a tar + zstd `archive`.
pub fn pack(
    source_tree: &Path,
    patterns: &[String],
    archive: &Path,
) -> Result<PackSummary, ArtifactError> {
    let write_error = |source| ArtifactError::WriteArchive {
        path: archive.to_owned(),
        source,
    };
    if let Some(parent) = archive
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(write_error)?;
    }
    let file = temporary_sibling(archive).map_err(write_error)?;
    let (mut summary, file) = pack_into(source_tree, patterns, file, archive)?;
    summary.compressed_bytes = file.as_file().metadata().map_err(write_error)?.len();
    persist(file, archive).map_err(write_error)?;
    Ok(summary)
}

/// [`pack`] into any sink (an [`ArtifactStore`](super::ArtifactStore)'s upload); `archive`
/// names it in errors. Returns the sink once the archive is complete in it; the summary's
/// `compressed_bytes` is the sink's to tell.
pub fn pack_into<W: Write>(
    source_tree: &Path,
    patterns: &[String],
    sink: W,
    archive: &Path,
) -> Result<(PackSummary, W), ArtifactError> {
    let write_error = |source| ArtifactError::WriteArchive {
        path: archive.to_owned(),
        source,
    };
    let canonical_root = canonical_root(source_tree)?;
    let mut encoder =
        zstd::stream::write::Encoder::new(sink, COMPRESSION_LEVEL).map_err(write_error)?;
    encoder.multithread(worker_count()).map_err(write_error)?;
    let mut builder = tar::Builder::new(encoder);
    let mut summary = PackSummary::default();

    walk_selection(source_tree, patterns, |entry| {
        let mut header = Header::new_gnu();
        header.set_mtime(u64::try_from(entry.metadata.mtime()).unwrap_or(0));
        if entry.file_type.is_dir() {
            header.set_entry_type(EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            builder
                .append_data(&mut header, entry.relative, io::empty())
                .map_err(write_error)?;
        } else if entry.file_type.is_symlink() {
            let target = stored_symlink_target(&canonical_root, entry.relative, entry.path)?;
            header.set_entry_type(EntryType::Symlink);
            header.set_mode(0o777);
            header.set_size(0);
            builder
                .append_link(&mut header, entry.relative, &target)
                .map_err(write_error)?;
        } else if entry.file_type.is_file() {
            let (file, size, mode) =
                open_regular_file(entry.path).map_err(|source| ArtifactError::ReadSource {
                    path: entry.path.to_owned(),
                    source,
                })?;
            header.set_entry_type(EntryType::Regular);
            header.set_mode(mode & 0o777);
            header.set_size(size);
            let reader = ExactReader {
                inner: file.take(size),
                remaining: size,
            };
            builder
                .append_data(&mut header, entry.relative, reader)
                .map_err(write_error)?;
            summary.files += 1;
            summary.bytes += size;
        }
        // Sockets and FIFOs have no content to hand on; they are left out silently.
        Ok(())
    })?;

    let encoder = builder.into_inner().map_err(write_error)?;
    let sink = encoder.finish().map_err(write_error)?;
    Ok((summary, sink))
}

/// One path the patterns select.
pub(super) struct SelectedEntry<'a> {
    /// Relative to the source tree.
    pub relative: &'a Path,
    /// Where it is on disk.
    pub path: &'a Path,
    pub file_type: FileType,
    /// Not following a symlink.
    pub metadata: Metadata,
}

/// The source tree, resolved, to judge where its symlinks lead.
pub(super) fn canonical_root(source_tree: &Path) -> Result<PathBuf, ArtifactError> {
    std::fs::canonicalize(source_tree).map_err(|source| ArtifactError::ReadSource {
        path: source_tree.to_owned(),
        source,
    })
}

/// Calls `visit` on every path `patterns` select under `source_tree`, a folder before what
/// it holds, in name order; fails if a pattern matched nothing.
pub(super) fn walk_selection(
    source_tree: &Path,
    patterns: &[String],
    mut visit: impl FnMut(SelectedEntry<'_>) -> Result<(), ArtifactError>,
) -> Result<(), ArtifactError> {
    let mut selection = ArtifactSelection::new(patterns)?;
    // Walk order is depth first, so the folders a path inherits inclusion from form a stack.
    let mut included_dirs: Vec<PathBuf> = Vec::new();
    let literal_prefixes = selection.literal_prefixes.clone();
    let walk = WalkDir::new(source_tree)
        .follow_links(false)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| worth_entering(&literal_prefixes, source_tree, entry));
    for entry in walk {
        let entry = entry.map_err(|error| {
            let path = error.path().unwrap_or(source_tree).to_owned();
            ArtifactError::ReadSource {
                path,
                source: error.into(),
            }
        })?;
        let relative = entry
            .path()
            .strip_prefix(source_tree)
            .unwrap_or(entry.path());
        while included_dirs
            .last()
            .is_some_and(|dir| !relative.starts_with(dir))
        {
            included_dirs.pop();
        }
        let matched = selection.record_matches(relative);
        if !matched && included_dirs.is_empty() {
            continue;
        }
        let file_type = entry.file_type();
        if file_type.is_dir() {
            included_dirs.push(relative.to_owned());
        }
        let metadata = entry
            .metadata()
            .map_err(|error| ArtifactError::ReadSource {
                path: entry.path().to_owned(),
                source: error.into(),
            })?;
        visit(SelectedEntry {
            relative,
            path: entry.path(),
            file_type,
            metadata,
        })?;
    }
    selection.ensure_every_pattern_matched()
}

/// Checks a symlink target against the rules [`super::unpack`] enforces: relative, `..` only
/// at the start, and never above the archive's root when resolved from the link's folder.
pub(crate) fn check_symlink_target(link: &Path, target: &Path) -> Result<(), String> {
    let mut depth = link
        .parent()
        .map_or(0, |parent| parent.components().count());
    let mut descended = false;
    for component in target.components() {
        match component {
            Component::Normal(_) => {
                descended = true;
                depth += 1;
            }
            Component::CurDir => {}
            // `a/..` is only `.` when `a` is a folder; if `a` is a symlink the kernel
            // climbs from wherever it points, so a purely textual check would be fooled.
            Component::ParentDir if descended => {
                return Err(format!(
                    "symlink target `{}` has `..` after a name",
                    target.display()
                ));
            }
            Component::ParentDir => {
                depth = depth.checked_sub(1).ok_or_else(|| {
                    format!(
                        "symlink target `{}` leaves the destination",
                        target.display()
                    )
                })?;
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("symlink target `{}` is absolute", target.display()));
            }
        }
    }
    Ok(())
}

/// The target to store for a symlink: as written when that is safe, else rewritten relative.
pub(super) fn stored_symlink_target(
    canonical_root: &Path,
    relative: &Path,
    link_path: &Path,
) -> Result<PathBuf, ArtifactError> {
    let target = std::fs::read_link(link_path).map_err(|source| ArtifactError::ReadSource {
        path: link_path.to_owned(),
        source,
    })?;
    let outside = || ArtifactError::SymlinkOutsideTree {
        entry: relative.to_owned(),
        target: target.clone(),
    };
    let safe_as_written = check_symlink_target(relative, &target).is_ok();
    match std::fs::canonicalize(link_path) {
        Ok(resolved) => {
            let inside = resolved
                .strip_prefix(canonical_root)
                .map_err(|_| outside())?;
            if safe_as_written {
                Ok(target)
            } else {
                // An absolute link into the tree would point back at this machine's copy
                // once unpacked elsewhere, so it is stored relative to the link's folder.
                Ok(relative_from(
                    relative.parent().unwrap_or(Path::new("")),
                    inside,
                ))
            }
        }
        // A dangling link has nowhere to resolve to, so only its spelling can be judged.
        Err(_) if safe_as_written => Ok(target),
        Err(_) => Err(outside()),
    }
}

/// The relative path from folder `from` to `to`, both relative to the same root.
fn relative_from(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut path: PathBuf = std::iter::repeat_n(Component::ParentDir, from.len() - common)
        .chain(to[common..].iter().copied())
        .collect();
    if path.as_os_str().is_empty() {
        path.push(".");
    }
    path
}

/// Opens a file without following a symlink swapped in since the walk saw it.
pub(super) fn open_regular_file(path: &Path) -> io::Result<(File, u64, u32)> {
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(io::Error::other(
            "changed into something other than a file while packing",
        ));
    }
    Ok((file, metadata.len(), metadata.mode()))
}

fn worker_count() -> u32 {
    std::thread::available_parallelism()
        .map(|count| u32::try_from(count.get()).unwrap_or(u32::MAX))
        .unwrap_or(1)
}

/// Feeds exactly the size written in the header, or fails: a file that shrinks while being
/// read would otherwise leave a header promising more bytes than follow it.
struct ExactReader {
    inner: io::Take<File>,
    remaining: u64,
}

impl Read for ExactReader {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        if read == 0 && self.remaining > 0 && !buffer.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while packing",
            ));
        }
        self.remaining -= read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn tree() -> Result<tempfile::TempDir, io::Error> {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(dir.path().join("src/tree/dist/js"))?;
        std::fs::write(dir.path().join("src/tree/dist/app.js"), "app")?;
        std::fs::write(dir.path().join("src/tree/dist/js/lib.js"), "lib")?;
        std::fs::write(dir.path().join("src/tree/report.xml"), "<xml/>")?;
        std::fs::write(dir.path().join("src/outside-secret"), "secret")?;
        Ok(dir)
    }

    fn names_in(archive: &Path) -> Result<Vec<String>, Box<dyn std::error::Error>> {
        let decoder = zstd::stream::read::Decoder::new(File::open(archive)?)?;
        let mut names = Vec::new();
        for entry in tar::Archive::new(decoder).entries()? {
            names.push(entry?.path()?.display().to_string());
        }
        Ok(names)
    }

    #[test]
    fn patterns_select_paths_globs_and_whole_folders() -> TestResult {
        let dir = tree()?;
        let source = dir.path().join("src/tree");
        std::fs::create_dir_all(source.join(".git"))?;
        std::fs::write(source.join(".git/config"), "x")?;
        let archive = dir.path().join("out/a.tar.zst");
        let patterns = ["./dist/".to_owned(), "*.xml".to_owned()];

        let summary = pack(&source, &patterns, &archive)?;

        assert_eq!(
            names_in(&archive)?,
            [
                "dist",
                "dist/app.js",
                "dist/js",
                "dist/js/lib.js",
                "report.xml"
            ]
        );
        assert_eq!((summary.files, summary.bytes), (3, 12));
        assert_eq!(summary.compressed_bytes, std::fs::metadata(&archive)?.len());
        Ok(())
    }

    #[test]
    fn a_pattern_matching_nothing_is_named() -> TestResult {
        let dir = tree()?;
        let patterns = ["dist".to_owned(), "target/*.bin".to_owned()];
        let error = pack(
            &dir.path().join("src/tree"),
            &patterns,
            &dir.path().join("a.tar.zst"),
        );
        assert_eq!(
            error.map_err(|error| error.to_string()),
            Err("artifact pattern `target/*.bin` matched no files".to_owned())
        );
        assert!(!dir.path().join("a.tar.zst").exists());
        Ok(())
    }

    #[test]
    fn patterns_reaching_outside_are_refused() -> TestResult {
        let dir = tree()?;
        for pattern in ["../outside-secret", "/etc/passwd", "dist/../../x"] {
            let result = pack(
                &dir.path().join("src/tree"),
                &[pattern.to_owned()],
                &dir.path().join("a.tar.zst"),
            );
            assert!(
                matches!(result, Err(ArtifactError::PatternOutsideTree { .. })),
                "{pattern}"
            );
        }
        Ok(())
    }

    #[test]
    fn symlinks_out_of_the_tree_are_refused() -> TestResult {
        let dir = tree()?;
        let source = dir.path().join("src/tree");
        symlink("../../outside-secret", source.join("dist/leak"))?;
        let result = pack(&source, &["dist".to_owned()], &dir.path().join("a.tar.zst"));
        match result {
            Err(ArtifactError::SymlinkOutsideTree { entry, .. }) => {
                assert_eq!(entry, Path::new("dist/leak"));
            }
            other => panic!("expected a refusal, got {other:?}"),
        }

        std::fs::remove_file(source.join("dist/leak"))?;
        symlink(
            dir.path().join("src/outside-secret"),
            source.join("dist/leak"),
        )?;
        let result = pack(
            &source,
            &["dist/leak".to_owned()],
            &dir.path().join("a.tar.zst"),
        );
        assert!(matches!(
            result,
            Err(ArtifactError::SymlinkOutsideTree { .. })
        ));
        Ok(())
    }

    #[test]
    fn absolute_symlinks_into_the_tree_are_stored_relative() -> TestResult {
        let dir = tree()?;
        let source = dir.path().join("src/tree");
        symlink(source.join("dist/app.js"), source.join("dist/js/app-link"))?;
        let archive = dir.path().join("a.tar.zst");
        pack(&source, &["dist/js".to_owned()], &archive)?;

        let decoder = zstd::stream::read::Decoder::new(File::open(&archive)?)?;
        let mut targets = Vec::new();
        for entry in tar::Archive::new(decoder).entries()? {
            if let Some(target) = entry?.link_name()? {
                targets.push(target.into_owned());
            }
        }
        assert_eq!(targets, [PathBuf::from("../app.js")]);
        Ok(())
    }

    #[test]
    fn symlink_targets_follow_the_unpack_rules() {
        let cases = [
            ("link", "target", true),
            ("link", ".", true),
            ("a/b/link", "../../c", true),
            ("a/link", "../../c", false),
            ("link", "/etc/passwd", false),
            ("link", "sub/../x", false),
            ("a/link", "./../b", true),
        ];
        for (link, target, allowed) in cases {
            let verdict = check_symlink_target(Path::new(link), Path::new(target));
            assert_eq!(verdict.is_ok(), allowed, "{link} -> {target}: {verdict:?}");
        }
    }

    #[test]
    fn relative_from_walks_up_then_down() {
        let cases = [
            ("", "a/b", "a/b"),
            ("a/b", "a/c", "../c"),
            ("a", "", ".."),
            ("a", "a", "."),
        ];
        for (from, to, expected) in cases {
            assert_eq!(
                relative_from(Path::new(from), Path::new(to)),
                Path::new(expected)
            );
        }
    }
}
