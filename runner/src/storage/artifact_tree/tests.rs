use super::*;
use crate::storage::{ExtractLimits, pack, unpack};
use std::os::unix::fs::{MetadataExt, symlink};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// `producer/` (a job's tree with outputs), `outside/secret`, `consumer/`, side by side.
fn scratch() -> Result<tempfile::TempDir, io::Error> {
    let dir = tempfile::tempdir()?;
    std::fs::create_dir_all(dir.path().join("producer/out/nested"))?;
    std::fs::write(dir.path().join("producer/out/app"), "app")?;
    std::fs::write(dir.path().join("producer/out/nested/lib"), "lib")?;
    std::fs::write(dir.path().join("producer/source.c"), "not an artifact")?;
    std::fs::create_dir_all(dir.path().join("outside"))?;
    std::fs::write(dir.path().join("outside/secret"), "secret")?;
    std::fs::create_dir_all(dir.path().join("consumer"))?;
    Ok(dir)
}

fn out() -> Vec<String> {
    vec!["out".to_owned()]
}

#[test]
fn staged_outputs_reach_the_consumer_as_links_of_the_producers_files() -> TestResult {
    let dir = scratch()?;
    let root = dir.path();
    symlink("nested/lib", root.join("producer/out/lib-link"))?;
    let staged = root.join("staged/producer");

    let summary = stage(
        &root.join("producer"),
        &out(),
        &staged,
        &ExtractLimits::default(),
    )?;
    let linked = link_staged(&staged, &root.join("consumer"))?;

    assert_eq!((summary.files, summary.bytes, summary.copied), (2, 6, 0));
    assert_eq!(linked, 2);
    let consumer = root.join("consumer/out");
    assert_eq!(std::fs::read_to_string(consumer.join("nested/lib"))?, "lib");
    assert_eq!(
        std::fs::read_link(consumer.join("lib-link"))?,
        Path::new("nested/lib")
    );
    // Nothing needed fixing, so the producer's folder was moved, not linked file by file.
    assert!(!root.join("producer/out").exists());
    assert_eq!(
        std::fs::metadata(consumer.join("app"))?.ino(),
        std::fs::metadata(staged.join("out/app"))?.ino()
    );
    assert!(!root.join("consumer/source.c").exists());
    assert!(!root.join("staged/producer.partial").exists());

    // The archive packed from the staged tree holds what packing the producer's tree would.
    let archive = root.join("producer.tar.zst");
    let packed = pack(&staged, &out(), &archive)?;
    assert_eq!((packed.files, packed.bytes), (2, 6));
    let unpacked = unpack(&archive, &root.join("elsewhere"), &ExtractLimits::default())?;
    assert_eq!(unpacked.files, 2);
    Ok(())
}

#[test]
fn an_output_hard_linked_to_a_file_outside_is_copied_never_shared() -> TestResult {
    let dir = scratch()?;
    let root = dir.path();
    std::fs::hard_link(
        root.join("outside/secret"),
        root.join("producer/out/secret"),
    )?;
    let staged = root.join("staged/producer");

    let summary = stage(
        &root.join("producer"),
        &out(),
        &staged,
        &ExtractLimits::default(),
    )?;
    link_staged(&staged, &root.join("consumer"))?;
    // A consumer rewriting the file in place, as `>>` does.
    std::fs::OpenOptions::new()
        .append(true)
        .open(root.join("consumer/out/secret"))
        .and_then(|mut file| io::Write::write_all(&mut file, b" changed"))?;

    assert_eq!(summary.copied, 1);
    assert_eq!(
        std::fs::read_to_string(root.join("outside/secret"))?,
        "secret"
    );
    Ok(())
}

#[test]
fn an_output_symlink_pointing_out_is_refused_by_name_and_nothing_is_staged() -> TestResult {
    let dir = scratch()?;
    let root = dir.path();
    symlink(
        "../../../outside/secret",
        root.join("producer/out/nested/leak"),
    )?;
    let staged = root.join("staged/producer");

    let result = stage(
        &root.join("producer"),
        &out(),
        &staged,
        &ExtractLimits::default(),
    );

    assert_eq!(
        result.map_err(|error| error.to_string()),
        Err("symlink `out/nested/leak` points outside the source tree (to `../../../outside/secret`)".to_owned())
    );
    assert!(!staged.exists());
    assert!(!root.join("staged/producer.partial").exists());
    Ok(())
}

#[test]
fn outputs_past_the_limits_are_refused() -> TestResult {
    let dir = scratch()?;
    let root = dir.path();
    for index in 0..20 {
        std::fs::write(root.join(format!("producer/out/tiny-{index}")), "x")?;
    }
    let entries = ExtractLimits {
        max_entries: 10,
        ..ExtractLimits::default()
    };
    let result = stage(&root.join("producer"), &out(), &root.join("a"), &entries);
    assert!(
        matches!(result, Err(ArtifactError::TooManyOutputs { limit: 10, .. })),
        "{result:?}"
    );
    assert!(!root.join("a").exists());

    let bytes = ExtractLimits {
        max_bytes: 5,
        ..ExtractLimits::default()
    };
    let result = stage(&root.join("producer"), &out(), &root.join("b"), &bytes);
    assert!(
        matches!(result, Err(ArtifactError::OutputsTooLarge { limit: 5, .. })),
        "{result:?}"
    );
    assert!(!root.join("b").exists());
    Ok(())
}

#[test]
fn linking_never_writes_through_a_symlink_in_the_consumers_tree() -> TestResult {
    let dir = scratch()?;
    let root = dir.path();
    let staged = root.join("staged/producer");
    stage(
        &root.join("producer"),
        &out(),
        &staged,
        &ExtractLimits::default(),
    )?;
    // The commit itself holds `out` as a link out of the checkout.
    symlink("../outside", root.join("consumer/out"))?;

    let result = link_staged(&staged, &root.join("consumer"));

    assert!(
        matches!(result, Err(ArtifactError::Refused { .. })),
        "{result:?}"
    );
    assert!(!root.join("outside/app").exists());
    Ok(())
}

#[test]
fn a_file_of_the_checkout_is_replaced_not_written_into() -> TestResult {
    let dir = scratch()?;
    let root = dir.path();
    let staged = root.join("staged/producer");
    stage(
        &root.join("producer"),
        &out(),
        &staged,
        &ExtractLimits::default(),
    )?;
    // A tracked file in the consumer's checkout shares its inode with the export.
    std::fs::create_dir_all(root.join("consumer/out"))?;
    std::fs::hard_link(root.join("outside/secret"), root.join("consumer/out/app"))?;

    link_staged(&staged, &root.join("consumer"))?;

    assert_eq!(
        std::fs::read_to_string(root.join("consumer/out/app"))?,
        "app"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("outside/secret"))?,
        "secret"
    );
    Ok(())
}

#[test]
fn hard_links_within_the_selection_are_moved_with_it() -> TestResult {
    let dir = scratch()?;
    let root = dir.path();
    // As cargo links `deps/app-hash` and `app`.
    std::fs::hard_link(
        root.join("producer/out/app"),
        root.join("producer/out/nested/app-hash"),
    )?;
    let staged = root.join("staged/producer");

    let summary = stage(
        &root.join("producer"),
        &out(),
        &staged,
        &ExtractLimits::default(),
    )?;

    assert_eq!((summary.files, summary.copied), (3, 0));
    assert!(!root.join("producer/out").exists(), "not moved");
    assert_eq!(
        std::fs::read_to_string(staged.join("out/nested/app-hash"))?,
        "app"
    );
    Ok(())
}

#[test]
fn what_moving_would_carry_along_is_left_behind_by_linking_instead() -> TestResult {
    let dir = scratch()?;
    let root = dir.path();
    std::fs::create_dir_all(root.join("producer/out/nested/.git"))?;
    std::fs::write(root.join("producer/out/nested/.git/config"), "x")?;
    let staged = root.join("staged/producer");

    let summary = stage(
        &root.join("producer"),
        &out(),
        &staged,
        &ExtractLimits::default(),
    )?;

    assert_eq!(summary.files, 2);
    assert!(root.join("producer/out/app").exists(), "moved");
    assert!(staged.join("out/nested/lib").exists());
    assert!(!staged.join("out/nested/.git").exists());
    Ok(())
}

/// A folder that cannot be moved (here a mount point, EBUSY; for a user, one written by a
/// container as root, EACCES) makes staging put back what it moved and link instead.
#[test]
fn a_folder_that_cannot_be_moved_is_linked_instead() -> TestResult {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: mounting a tmpfs needs root");
        return Ok(());
    }
    let dir = scratch()?;
    let root = dir.path();
    let mounted = root.join("producer/zz-mounted");
    std::fs::create_dir(&mounted)?;
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&mounted)
        .status();
    if !status.is_ok_and(|status| status.success()) {
        eprintln!("skipped: cannot mount a tmpfs");
        return Ok(());
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&mounted);
    std::fs::write(mounted.join("report"), "report")?;
    let staged = root.join("staged/producer");
    let patterns = vec!["out".to_owned(), "zz-mounted".to_owned()];

    let summary = stage(
        &root.join("producer"),
        &patterns,
        &staged,
        &ExtractLimits::default(),
    )?;

    assert_eq!(summary.files, 3);
    assert_eq!(
        summary.copied, 1,
        "the file on the other file system is copied"
    );
    assert_eq!(
        std::fs::read_to_string(staged.join("out/nested/lib"))?,
        "lib"
    );
    assert_eq!(
        std::fs::read_to_string(staged.join("zz-mounted/report"))?,
        "report"
    );
    // `out` had been moved before the mount point refused; it is back in the producer.
    assert_eq!(
        std::fs::read_to_string(root.join("producer/out/nested/lib"))?,
        "lib"
    );
    assert!(!root.join("staged/producer.partial").exists());
    Ok(())
}
