//! The build context sent to the engine: the context folder as a tar, less what
//! `.dockerignore` excludes (its plain patterns; `!` exceptions are not supported) and
//! pipekit-ci's own run folders, which hold logs and handed-over secrets and change on
//! every run (they would defeat the layer cache).

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::io;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Packs `context` on a blocking thread.
pub async fn pack_context(context: PathBuf, dockerfile: Option<String>) -> io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || pack(&context, dockerfile.as_deref()))
        .await
        .map_err(io::Error::other)?
}

fn pack(context: &Path, dockerfile: Option<&str>) -> io::Result<Vec<u8>> {
    if !context.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("`{}` is not a folder", context.display()),
        ));
    }
    let ignored = ignore_patterns(context)?;
    let dockerfile = Path::new(dockerfile.unwrap_or("Dockerfile"));
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    let mut walk = WalkDir::new(context).min_depth(1).into_iter();
    while let Some(entry) = walk.next() {
        let entry = entry.map_err(io::Error::other)?;
        let relative = entry
            .path()
            .strip_prefix(context)
            .map_err(io::Error::other)?;
        let run_folders = relative.starts_with(".pipekit");
        if (run_folders || ignored.is_match(relative)) && relative != dockerfile {
            if entry.file_type().is_dir() {
                walk.skip_current_dir();
            }
            continue;
        }
        tar.append_path_with_name(entry.path(), relative)?;
    }
    tar.into_inner()
}

fn ignore_patterns(context: &Path) -> io::Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    match std::fs::read_to_string(context.join(".dockerignore")) {
        Ok(text) => {
            for line in text.lines().map(str::trim) {
                if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                    continue;
                }
                let pattern = line.trim_start_matches("./").trim_start_matches('/');
                let pattern = pattern.trim_end_matches('/');
                if let Ok(glob) = Glob::new(pattern) {
                    set.add(glob);
                }
            }
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    set.build().map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_drops_folders_and_files_but_never_the_dockerfile() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("target/debug")).expect("mkdir");
        std::fs::write(root.join("target/debug/big"), "x").expect("write");
        std::fs::write(root.join("Dockerfile"), "FROM scratch\n").expect("write");
        std::fs::write(root.join("keep.txt"), "k").expect("write");
        std::fs::write(root.join("notes.log"), "n").expect("write");
        std::fs::create_dir_all(root.join(".pipekit/runs/r1/shared")).expect("mkdir");
        std::fs::write(root.join(".pipekit/runs/r1/shared/.env"), "PASSWORD=x").expect("write");
        std::fs::write(root.join(".dockerignore"), "target/\n*.log\nDockerfile\n").expect("write");
        let bytes = pack(root, None).expect("pack");
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut names: Vec<String> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .display()
                    .to_string()
            })
            .collect();
        names.sort();
        assert_eq!(names, [".dockerignore", "Dockerfile", "keep.txt"]);
    }

    #[test]
    fn a_missing_context_is_an_error_naming_it() {
        let error = pack(Path::new("/no/such/context"), None).expect_err("missing");
        assert!(error.to_string().contains("/no/such/context"));
    }
}
