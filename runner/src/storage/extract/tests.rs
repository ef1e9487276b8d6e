//! Tests of unpacking: hostile entries, symlinks in the way, limits, bombs, round trips.

use super::*;
use crate::storage::pack;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::PathBuf;
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
