//! Putting pipekit-ci's hook in place and taking it away, keeping whatever hook was there.

use super::{HookError, HookKind, HookScript};
use std::ffi::OsString;
use std::fs::{self, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Appended to a replaced hook's name; the backup runs before pipekit-ci's hook.
pub const BACKUP_SUFFIX: &str = ".pipekit-backup";

/// What `install` did to the hook file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Our hook was written where there was none, or none of ours.
    Written,
    /// Our hook was there, execing another binary; it now execs this one.
    Rewritten,
    /// Our hook was there already, exactly as it would be written.
    Unchanged,
}

/// The result of `install`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub hook: PathBuf,
    pub change: Change,
    /// The hook that was there before, kept and run first; `moved_now` when this install
    /// moved it there.
    pub backup: Option<PathBuf>,
    pub moved_now: bool,
}

/// The result of `uninstall`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uninstallation {
    /// Our hook is gone; the hook it replaced, if any, is back.
    Removed { restored: Option<PathBuf> },
    /// Our hook was gone already; the hook it had replaced is back.
    Restored { hook: PathBuf },
    /// The hook there is not ours: left alone, and so is a backup, if any.
    NotOurs { backup: Option<PathBuf> },
    /// Neither our hook nor a backup.
    NothingInstalled,
}

/// Where the hook replaced by ours at `hook` is kept.
pub fn backup_path(hook: &Path) -> PathBuf {
    let mut name = OsString::from(hook.as_os_str());
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

/// Installs pipekit-ci's `kind` hook in `hooks_dir`, execing `executable`. A hook that
/// is not ours is moved to its backup name first (never over an existing backup);
/// installing again changes nothing.
pub fn install(
    hooks_dir: &Path,
    kind: HookKind,
    executable: &Path,
) -> Result<Installation, HookError> {
    let script = HookScript {
        kind,
        executable,
        server: None,
    };
    install_script(hooks_dir, &script)
}

/// [`install`] of any hook script (a post-receive that tells a server, say).
pub fn install_script(
    hooks_dir: &Path,
    script: &HookScript<'_>,
) -> Result<Installation, HookError> {
    let kind = script.kind;
    fs::create_dir_all(hooks_dir).map_err(|source| HookError::HooksDirectory {
        path: hooks_dir.to_path_buf(),
        source,
    })?;
    let hook = hooks_dir.join(kind.file_name());
    let backup = backup_path(&hook);
    let script = script.render();
    let existing_backup = exists(&backup)?.then(|| backup.clone());
    let installation = |change, moved_now| Installation {
        hook: hook.clone(),
        change,
        backup: existing_backup.clone(),
        moved_now,
    };

    let Some(contents) = existing_hook(&hook)? else {
        write_hook(&hook, &script)?;
        return Ok(installation(Change::Written, false));
    };
    if HookScript::is_ours(&contents) {
        if contents == script {
            return Ok(installation(Change::Unchanged, false));
        }
        write_hook(&hook, &script)?;
        return Ok(installation(Change::Rewritten, false));
    }
    if existing_backup.is_some() {
        return Err(HookError::BackupInTheWay { hook, backup });
    }
    // A rename keeps the hook's mode, owner and (for a symlink) its target.
    fs::rename(&hook, &backup).map_err(|source| HookError::File {
        action: "back up the hook",
        path: hook.clone(),
        source,
    })?;
    if let Err(error) = write_hook(&hook, &script) {
        let _ = fs::rename(&backup, &hook);
        return Err(error);
    }
    Ok(Installation {
        hook,
        change: Change::Written,
        backup: Some(backup),
        moved_now: true,
    })
}

/// Removes pipekit-ci's `kind` hook from `hooks_dir` and moves the hook it replaced
/// back. A hook without our marker is never touched.
pub fn uninstall(hooks_dir: &Path, kind: HookKind) -> Result<Uninstallation, HookError> {
    let hook = hooks_dir.join(kind.file_name());
    let backup = backup_path(&hook);
    let has_backup = exists(&backup)?;
    let restore = || {
        fs::rename(&backup, &hook).map_err(|source| HookError::File {
            action: "restore the hook from",
            path: backup.clone(),
            source,
        })
    };
    match existing_hook(&hook)? {
        Some(contents) if HookScript::is_ours(&contents) => {
            fs::remove_file(&hook).map_err(|source| HookError::File {
                action: "remove",
                path: hook.clone(),
                source,
            })?;
            if has_backup {
                restore()?;
            }
            Ok(Uninstallation::Removed {
                restored: has_backup.then(|| hook.clone()),
            })
        }
        Some(_) => Ok(Uninstallation::NotOurs {
            backup: has_backup.then(|| backup.clone()),
        }),
        None if has_backup => {
            restore()?;
            Ok(Uninstallation::Restored { hook: hook.clone() })
        }
        None => Ok(Uninstallation::NothingInstalled),
    }
}

/// The contents of the hook at `path`, `None` when there is none. A hook that cannot be
/// read (a dangling symlink) counts as someone else's.
fn existing_hook(path: &Path) -> Result<Option<Vec<u8>>, HookError> {
    match fs::symlink_metadata(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(HookError::File {
            action: "look at",
            path: path.to_path_buf(),
            source,
        }),
        Ok(_) if path.is_dir() => Err(HookError::NotAFile {
            path: path.to_path_buf(),
        }),
        Ok(_) => Ok(Some(fs::read(path).unwrap_or_default())),
    }
}

fn exists(path: &Path) -> Result<bool, HookError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(HookError::File {
            action: "look at",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes the hook through a temporary file renamed over it, so git never runs half a
/// script.
fn write_hook(hook: &Path, script: &[u8]) -> Result<(), HookError> {
    let dir = hook.parent().unwrap_or_else(|| Path::new("."));
    let failed = |source| HookError::HooksDirectory {
        path: dir.to_path_buf(),
        source,
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(failed)?;
    file.write_all(script).map_err(failed)?;
    file.as_file()
        .set_permissions(Permissions::from_mode(0o755))
        .map_err(failed)?;
    file.as_file().sync_all().map_err(failed)?;
    file.persist(hook).map_err(|error| failed(error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CUSTOM: &str = "#!/bin/sh\necho custom\n";

    fn hooks_dir() -> tempfile::TempDir {
        tempfile::tempdir().expect("tempdir")
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
    }

    #[test]
    fn fresh_install_writes_an_executable_hook_once() {
        let dir = hooks_dir();
        let hooks = dir.path().join("not/there/yet");
        let executable = Path::new("/opt/pipekit-ci");

        let first = install(&hooks, HookKind::PrePush, executable).expect("install");
        let second = install(&hooks, HookKind::PrePush, executable).expect("install");

        assert_eq!(first.change, Change::Written);
        assert_eq!(first.backup, None);
        assert_eq!(second.change, Change::Unchanged);
        assert_eq!(mode(&first.hook), 0o755);
        let leftovers: Vec<_> = fs::read_dir(&hooks).expect("list").flatten().collect();
        assert_eq!(leftovers.len(), 1, "{leftovers:?}");
    }

    #[test]
    fn another_binary_rewrites_our_hook_and_keeps_the_backup() {
        let dir = hooks_dir();
        fs::write(dir.path().join("pre-push"), CUSTOM).expect("write");
        install(dir.path(), HookKind::PrePush, Path::new("/old/pipekit-ci")).expect("install");

        let again =
            install(dir.path(), HookKind::PrePush, Path::new("/new/pipekit-ci")).expect("install");

        assert_eq!(again.change, Change::Rewritten);
        assert!(!again.moved_now);
        let backup = again.backup.expect("backup kept");
        assert_eq!(fs::read_to_string(backup).expect("read"), CUSTOM);
        let hook = fs::read_to_string(&again.hook).expect("read");
        assert!(hook.contains("'/new/pipekit-ci'"), "{hook}");
    }

    #[test]
    fn install_over_a_custom_hook_then_uninstall_restores_it_with_its_mode() {
        let dir = hooks_dir();
        let hook = dir.path().join("pre-commit");
        fs::write(&hook, CUSTOM).expect("write");
        fs::set_permissions(&hook, Permissions::from_mode(0o750)).expect("chmod");

        let installed = install(dir.path(), HookKind::PreCommit, Path::new("/x")).expect("install");
        assert!(installed.moved_now);
        let backup = installed.backup.expect("backup");
        assert_eq!(backup, dir.path().join("pre-commit.pipekit-backup"));
        assert_eq!(mode(&backup), 0o750);

        let removed = uninstall(dir.path(), HookKind::PreCommit).expect("uninstall");
        assert_eq!(
            removed,
            Uninstallation::Removed {
                restored: Some(hook.clone())
            }
        );
        assert_eq!(fs::read_to_string(&hook).expect("read"), CUSTOM);
        assert_eq!(mode(&hook), 0o750);
        assert!(!backup.exists());
        assert_eq!(
            uninstall(dir.path(), HookKind::PreCommit).expect("uninstall"),
            Uninstallation::NotOurs { backup: None }
        );
    }

    #[test]
    fn a_foreign_hook_never_overwrites_an_existing_backup() {
        let dir = hooks_dir();
        let hook = dir.path().join("pre-push");
        let backup = backup_path(&hook);
        fs::write(&hook, CUSTOM).expect("write");
        fs::write(&backup, "#!/bin/sh\necho older\n").expect("write");

        let error = install(dir.path(), HookKind::PrePush, Path::new("/x"));

        assert!(matches!(error, Err(HookError::BackupInTheWay { .. })));
        assert_eq!(fs::read_to_string(&hook).expect("read"), CUSTOM);
        assert_eq!(
            fs::read_to_string(&backup).expect("read"),
            "#!/bin/sh\necho older\n"
        );
    }

    #[test]
    fn uninstall_without_our_hook_restores_a_lone_backup_or_does_nothing() {
        let dir = hooks_dir();
        assert_eq!(
            uninstall(dir.path(), HookKind::PostReceive).expect("uninstall"),
            Uninstallation::NothingInstalled
        );
        let hook = dir.path().join("post-receive");
        fs::write(backup_path(&hook), CUSTOM).expect("write");
        assert_eq!(
            uninstall(dir.path(), HookKind::PostReceive).expect("uninstall"),
            Uninstallation::Restored { hook: hook.clone() }
        );
        assert_eq!(fs::read_to_string(&hook).expect("read"), CUSTOM);
    }

    #[test]
    fn a_directory_in_the_hooks_place_is_an_error() {
        let dir = hooks_dir();
        fs::create_dir(dir.path().join("pre-push")).expect("mkdir");
        assert!(matches!(
            install(dir.path(), HookKind::PrePush, Path::new("/x")),
            Err(HookError::NotAFile { .. })
        ));
    }
}
