//! Unpacking an untrusted artifact archive: never a panic, and whatever the archive holds,
//! nothing is created, changed or linked outside the destination folder.
//!
//! Input: the bytes of a `.tar.zst` file; or `T` followed by tar bytes, which are compressed
//! here so the fuzzer's mutations reach the tar layer instead of dying in zstd's checks.
//! Shared by `fuzz/fuzz_targets/artifact_extract.rs` and the runner's `fuzz_corpus` test.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use pipekit_runner::storage::{ExtractLimits, unpack};

const SECRET: &[u8] = b"must stay as it is";

pub fn check(bytes: &[u8]) {
    let archive_bytes = match bytes.split_first() {
        Some((b'T', tar)) => zstd::encode_all(tar, 1).expect("compressing in memory"),
        _ => bytes.to_vec(),
    };
    let root = tempfile::tempdir().expect("a temp dir");
    let root_path = root.path().canonicalize().expect("the temp dir resolves");
    let archive = root_path.join("archive.tar.zst");
    fs::write(&archive, &archive_bytes).expect("writing the archive");
    let outside = root_path.join("outside");
    fs::create_dir(&outside).expect("a folder beside the destination");
    let secret = outside.join("secret");
    fs::write(&secret, SECRET).expect("writing the secret");
    let destination = root_path.join("destination");

    // Small limits: the fuzzer should explore archive shapes, not fill the disk.
    let limits = ExtractLimits {
        max_bytes: 1024 * 1024,
        max_entries: 256,
    };
    let _ = unpack(&archive, &destination, &limits);

    assert_untouched_outside(&root_path, &archive, archive_bytes.len(), &secret);
    if destination.exists() {
        assert_contained(&destination);
    }
}

/// The root holds exactly what was put there, unchanged and not hard-linked from anywhere.
fn assert_untouched_outside(root: &Path, archive: &Path, archive_len: usize, secret: &Path) {
    let mut names: Vec<String> = fs::read_dir(root)
        .expect("listing the root")
        .map(|entry| {
            entry
                .expect("a root entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names.retain(|name| name != "destination");
    assert_eq!(
        names,
        ["archive.tar.zst", "outside"],
        "written beside the destination"
    );
    let outside: Vec<_> = fs::read_dir(secret.parent().expect("the secret's folder"))
        .expect("listing outside")
        .map(|entry| entry.expect("an outside entry").file_name())
        .collect();
    assert_eq!(
        outside,
        ["secret"],
        "written into the folder beside the destination"
    );
    assert_eq!(fs::read(secret).expect("reading the secret"), SECRET);
    for (path, len) in [(secret, SECRET.len()), (archive, archive_len)] {
        let metadata = fs::symlink_metadata(path).expect("outside file metadata");
        assert_eq!(metadata.nlink(), 1, "{} got a hard link", path.display());
        assert_eq!(metadata.len() as usize, len, "{} changed", path.display());
    }
}

/// Every symlink resolves inside the destination and every hard link is between its files.
fn assert_contained(destination: &Path) {
    let metadata = fs::symlink_metadata(destination).expect("destination metadata");
    assert!(metadata.is_dir(), "the destination is no longer a folder");
    let mut links: HashMap<(u64, u64), (u64, u64)> = HashMap::new();
    let mut pending = vec![destination.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder).expect("listing a folder") {
            let path = entry.expect("a folder entry").path();
            let metadata = fs::symlink_metadata(&path).expect("entry metadata");
            if metadata.is_dir() {
                pending.push(path);
            } else if metadata.is_symlink() {
                let resolved = resolve(&path);
                assert!(
                    resolved.starts_with(destination),
                    "{} resolves to {} outside the destination",
                    path.display(),
                    resolved.display()
                );
            } else {
                let seen = links
                    .entry((metadata.dev(), metadata.ino()))
                    .or_insert((metadata.nlink(), 0));
                seen.1 += 1;
            }
        }
    }
    for (nlink, found) in links.values() {
        assert_eq!(
            nlink, found,
            "a file shares its inode with one outside the destination"
        );
    }
}

/// Like `realpath -m`: follows every symlink on the way, keeping names that do not exist.
fn resolve(path: &Path) -> PathBuf {
    let mut resolved = PathBuf::from("/");
    let mut remaining: Vec<PathBuf> = vec![path.to_path_buf()];
    let mut hops = 0;
    while let Some(next) = remaining.pop() {
        let mut components = next.components();
        let Some(component) = components.next() else {
            continue;
        };
        let rest = components.as_path().to_path_buf();
        if !rest.as_os_str().is_empty() {
            remaining.push(rest);
        }
        match component {
            Component::RootDir | Component::Prefix(_) => resolved = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            Component::Normal(name) => {
                let candidate = resolved.join(name);
                match fs::read_link(&candidate) {
                    Ok(target) => {
                        hops += 1;
                        if hops > 40 {
                            // A loop: the kernel refuses it too, so it reaches nothing.
                            return candidate;
                        }
                        remaining.push(target);
                    }
                    Err(_) => resolved = candidate,
                }
            }
        }
    }
    resolved
}
