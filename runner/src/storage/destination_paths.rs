//! Paths inside an unpack destination: entry names checked, folders made and old files
//! cleared without ever following a symlink out of the destination.

use std::io;
use std::path::{Component, Path, PathBuf};

/// The entry's path with `.` dropped; absolute paths and `..` are refused.
pub(super) fn safe_relative_path(path: &Path) -> Result<PathBuf, String> {
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
pub(super) fn prepare_parents(destination: &Path, relative: &Path) -> Result<(), String> {
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
pub(super) fn check_hard_link_original(destination: &Path, original: &Path) -> Result<(), String> {
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
