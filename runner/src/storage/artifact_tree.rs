//! Handing artifacts on as a tree of links instead of through the archive.
//!
//! In a `--commit` run the producer's checkout and its dependents' checkouts are on one file
//! system, so when the producer exits its selected outputs become a *staged tree* (its
//! folders renamed there when nothing needs fixing, else its files hard-linked), and each
//! dependent links the staged tree into its own checkout: no byte is copied or decompressed
//! on the way from producer exit to consumer start. The archive is packed from the staged
//! tree meanwhile. The staged tree passes every check [`super::pack`] and [`super::unpack`]
//! make: symlinks stay inside, limits hold, and no inode is shared with anything outside the
//! selection (a file with links elsewhere is copied instead, so a consumer writing into it
//! in place can never reach a file outside the checkouts).

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::artifact_error::ArtifactError;
use super::artifact_selection::SKIPPED_NAMES;
use super::artifacts::{
    canonical_root, check_symlink_target, open_regular_file, stored_symlink_target, walk_selection,
};
use super::destination_paths::{ensure_directory, remove_non_directory};
use super::extract::ExtractLimits;

/// What [`stage`] put into the staged tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StageSummary {
    /// Entries of any kind.
    pub entries: u64,
    /// Regular files.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// Files copied rather than linked (they had other links, or linking failed).
    pub copied: u64,
}

/// Makes `staged` (which must not exist) a tree of what `patterns` select under
/// `source_tree`: folders and symlinks recreated, files hard-linked or copied. The tree is
/// built beside it and renamed into place, so `staged` exists only once complete.
pub fn stage(
    source_tree: &Path,
    patterns: &[String],
    staged: &Path,
    limits: &ExtractLimits,
) -> Result<StageSummary, ArtifactError> {
    let mut partial = staged.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let built = move_selection(source_tree, patterns, &partial, limits)
        .and_then(|moved| match moved {
            Some(summary) => Ok(summary),
            None => build_staged_tree(source_tree, patterns, &partial, limits),
        })
        .and_then(|summary| {
            std::fs::rename(&partial, staged).map_err(|source| ArtifactError::Extract {
                path: staged.to_owned(),
                source,
            })?;
            Ok(summary)
        });
    if built.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    built
}

/// Moves what the patterns select into `staged` (one rename per selected folder or file)
/// when that hands on exactly what linking would: every symlink kept as written, no file
/// with links outside the selection, nothing left out by the walk (`.git`, FIFOs). The
/// producer has exited and its checkout is not used again, so taking its outputs costs
/// nothing. `None` (nothing moved) when that does not hold: the caller links instead.
fn move_selection(
    source_tree: &Path,
    patterns: &[String],
    staged: &Path,
    limits: &ExtractLimits,
) -> Result<Option<StageSummary>, ArtifactError> {
    let canonical_root = canonical_root(source_tree)?;
    let read_error = |path: &Path| {
        let path = path.to_owned();
        move |source| ArtifactError::ReadSource { path, source }
    };
    let mut roots: Vec<PathBuf> = Vec::new();
    // Per inode with several links: how many it has, how many the selection holds.
    let mut shared_inodes: HashMap<(u64, u64), (u64, u64)> = HashMap::new();
    let mut summary = StageSummary::default();
    let mut movable = true;
    walk_selection(source_tree, patterns, |entry| {
        summary.entries += 1;
        if summary.entries > limits.max_entries {
            return Err(ArtifactError::TooManyOutputs {
                path: source_tree.to_owned(),
                limit: limits.max_entries,
            });
        }
        if !roots
            .last()
            .is_some_and(|root| entry.relative.starts_with(root))
        {
            roots.push(entry.relative.to_owned());
        }
        if entry.file_type.is_dir() {
            movable &= SKIPPED_NAMES
                .iter()
                .all(|name| std::fs::symlink_metadata(entry.path.join(name)).is_err());
        } else if entry.file_type.is_symlink() {
            let stored = stored_symlink_target(&canonical_root, entry.relative, entry.path)?;
            let written = std::fs::read_link(entry.path).map_err(read_error(entry.path))?;
            movable &= stored == written;
        } else if entry.file_type.is_file() {
            summary.files += 1;
            summary.bytes = summary.bytes.saturating_add(entry.metadata.len());
            if summary.bytes > limits.max_bytes {
                return Err(ArtifactError::OutputsTooLarge {
                    path: source_tree.to_owned(),
                    limit: limits.max_bytes,
                });
            }
            if entry.metadata.nlink() > 1 {
                let key = (entry.metadata.dev(), entry.metadata.ino());
                shared_inodes
                    .entry(key)
                    .or_insert((entry.metadata.nlink(), 0))
                    .1 += 1;
            }
        } else {
            movable = false;
        }
        Ok(())
    })?;
    movable &= shared_inodes
        .values()
        .all(|(links, selected)| selected >= links);
    if !movable {
        return Ok(None);
    }
    create_staged_root(staged)?;
    let mut moved: Vec<&PathBuf> = Vec::new();
    for root in &roots {
        let target = staged.join(root);
        let renamed = match target.parent() {
            Some(parent) => std::fs::create_dir_all(parent),
            None => Ok(()),
        }
        .and_then(|()| std::fs::rename(source_tree.join(root), &target));
        if renamed.is_err() {
            // Moving a folder needs write access to it (its `..` changes): one a container
            // wrote as another user, or a read-only one, cannot move. Put back what moved and
            // let the caller link the files instead, which only needs to read them.
            for root in moved.into_iter().rev() {
                let _ = std::fs::rename(staged.join(root), source_tree.join(root));
            }
            let _ = std::fs::remove_dir_all(staged);
            return Ok(None);
        }
        moved.push(root);
    }
    Ok(Some(summary))
}

fn build_staged_tree(
    source_tree: &Path,
    patterns: &[String],
    staged: &Path,
    limits: &ExtractLimits,
) -> Result<StageSummary, ArtifactError> {
    let canonical_root = canonical_root(source_tree)?;
    create_staged_root(staged)?;
    let mut summary = StageSummary::default();
    // Entries come folder by folder: the last folder made need not be made again.
    let mut made_folder: Option<PathBuf> = None;
    walk_selection(source_tree, patterns, |entry| {
        summary.entries += 1;
        if summary.entries > limits.max_entries {
            return Err(ArtifactError::TooManyOutputs {
                path: source_tree.to_owned(),
                limit: limits.max_entries,
            });
        }
        let target = staged.join(entry.relative);
        if let Some(parent) = target.parent()
            && made_folder.as_deref() != Some(parent)
        {
            // Folders the patterns reach into without selecting (`target/release/app`).
            std::fs::create_dir_all(parent).map_err(write_error(parent))?;
            made_folder = Some(parent.to_owned());
        }
        if entry.file_type.is_dir() {
            std::fs::create_dir_all(&target).map_err(write_error(&target))?;
            made_folder = Some(target);
        } else if entry.file_type.is_symlink() {
            let link = stored_symlink_target(&canonical_root, entry.relative, entry.path)?;
            std::os::unix::fs::symlink(&link, &target).map_err(write_error(&target))?;
        } else if entry.file_type.is_file() {
            let (file, size, mode) =
                open_regular_file(entry.path).map_err(|source| ArtifactError::ReadSource {
                    path: entry.path.to_owned(),
                    source,
                })?;
            summary.bytes = summary.bytes.saturating_add(size);
            if summary.bytes > limits.max_bytes {
                return Err(ArtifactError::OutputsTooLarge {
                    path: source_tree.to_owned(),
                    limit: limits.max_bytes,
                });
            }
            let linked = file.metadata().is_ok_and(|opened| {
                opened.nlink() == 1 && link_open_file(&opened, entry.path, &target).is_ok()
            });
            if !linked {
                copy_open_file(&file, mode, &entry.metadata, &target)
                    .map_err(write_error(&target))?;
                summary.copied += 1;
            }
            summary.files += 1;
        }
        Ok(())
    })?;
    Ok(summary)
}

/// Links `path` to `target` if it is still the inode that was opened and checked (`opened`);
/// anything swapped in meanwhile is unlinked again and the caller copies from `file`.
fn link_open_file(opened: &std::fs::Metadata, path: &Path, target: &Path) -> io::Result<()> {
    std::fs::hard_link(path, target)?;
    let linked = std::fs::symlink_metadata(target)?;
    if linked.is_file() && (linked.dev(), linked.ino()) == (opened.dev(), opened.ino()) {
        return Ok(());
    }
    std::fs::remove_file(target)?;
    Err(io::Error::other("changed while being linked"))
}

fn copy_open_file(
    mut file: &File,
    mode: u32,
    metadata: &std::fs::Metadata,
    target: &Path,
) -> io::Result<()> {
    let mut copy = File::options()
        .write(true)
        .create_new(true)
        .mode(mode & 0o777)
        .custom_flags(libc::O_NOFOLLOW)
        .open(target)?;
    io::copy(&mut file, &mut copy)?;
    if let Ok(modified) = metadata.modified() {
        copy.set_modified(modified)?;
    }
    Ok(())
}

/// Links the staged tree made by [`stage`] into `destination` (a job's checkout): folders
/// made or reused, files and symlinks replacing what is at their path. As in
/// [`super::unpack`], nothing is ever written through a symlink already in the destination.
/// Returns the number of files linked.
pub fn link_staged(staged: &Path, destination: &Path) -> Result<u64, ArtifactError> {
    let mut files = 0;
    // Top-down: a folder is checked (or made) before anything inside it, and nothing else
    // writes here before the job starts, so each entry's own parent is known to be safe.
    for entry in WalkDir::new(staged).min_depth(1) {
        let entry = entry.map_err(|error| ArtifactError::ReadSource {
            path: error.path().unwrap_or(staged).to_owned(),
            source: error.into(),
        })?;
        let relative = entry.path().strip_prefix(staged).unwrap_or(entry.path());
        let refuse = |reason: String| ArtifactError::Refused {
            entry: relative.display().to_string(),
            reason,
        };
        let target = destination.join(relative);
        let extract_error = |source| ArtifactError::Extract {
            path: target.clone(),
            source,
        };
        let kind = entry.file_type();
        if kind.is_dir() {
            ensure_directory(destination, relative).map_err(refuse)?;
            continue;
        }
        let link = if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).map_err(extract_error)?;
            check_symlink_target(relative, &link).map_err(refuse)?;
            Some(link)
        } else {
            None
        };
        let make = || match &link {
            Some(link) => std::os::unix::fs::symlink(link, &target),
            None => std::fs::hard_link(entry.path(), &target),
        };
        // Most paths are new to the checkout: try first, clear the way only if taken.
        match make() {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
                remove_non_directory(&target).map_err(refuse)?;
                make().map_err(extract_error)?;
            }
            Err(error) => return Err(extract_error(error)),
        }
        if link.is_none() {
            files += 1;
        }
    }
    Ok(files)
}

/// An error writing `path` in the staged tree, for `map_err`.
fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> ArtifactError + use<> {
    let path = path.to_owned();
    move |source| ArtifactError::Extract { path, source }
}

/// The staged tree's folder, new (a leftover would mix two producers' files), and its parents.
fn create_staged_root(staged: &Path) -> Result<(), ArtifactError> {
    if let Some(parent) = staged.parent() {
        std::fs::create_dir_all(parent).map_err(write_error(parent))?;
    }
    std::fs::create_dir(staged).map_err(write_error(staged))
}

#[cfg(test)]
mod tests;
