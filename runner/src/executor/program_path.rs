//! Finding a job's program on the job's own `PATH`.
//!
//! Why not leave it to the OS: when the child's `PATH` differs from pipekit-ci's (it always
//! may, since jobs get their own environment), std cannot use `posix_spawnp` and falls back
//! to `fork`, which copies pipekit-ci's page tables for every job; resolving the path here
//! keeps the cheap spawn and searches the PATH the job will actually have.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The program to execute: `program` itself when it names a path, else the first
/// executable file of that name in `path_variable`'s directories (an empty entry means the
/// working directory, as in POSIX). `None` when nothing is found.
pub fn resolve_program(
    program: &str,
    path_variable: Option<&str>,
    working_dir: &Path,
) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let search = path_variable.unwrap_or("/usr/local/bin:/usr/bin:/bin");
    search
        .split(':')
        .map(|dir| {
            if dir.is_empty() {
                working_dir.to_path_buf()
            } else {
                working_dir.join(dir)
            }
        })
        .map(|dir| dir.join(OsStr::new(program)))
        .find(|candidate| is_executable_file(candidate))
}

/// Remembers where programs were found for a run: a 500-job graph running `true` would
/// otherwise probe every PATH directory 500 times.
#[derive(Debug, Default)]
pub struct ProgramCache {
    /// (program, the job's PATH, working directory) -> where it was found.
    found: Mutex<HashMap<(String, String, PathBuf), PathBuf>>,
}

impl ProgramCache {
    /// [`resolve_program`], remembering what was found (never what was not: a job may
    /// install the program another job looks for later).
    pub fn resolve(
        &self,
        program: &str,
        path_variable: Option<&str>,
        working_dir: &Path,
    ) -> Option<PathBuf> {
        let key = (
            program.to_string(),
            path_variable.unwrap_or_default().to_string(),
            working_dir.to_path_buf(),
        );
        let mut found = self
            .found
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(path) = found.get(&key) {
            return Some(path.clone());
        }
        let path = resolve_program(program, path_variable, working_dir)?;
        found.insert(key, path.clone());
        Some(path)
    }
}

fn is_executable_file(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_the_jobs_path_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (first, second) = (dir.path().join("first"), dir.path().join("second"));
        for folder in [&first, &second] {
            std::fs::create_dir(folder).expect("mkdir");
        }
        let tool = |folder: &Path, mode: u32| {
            let path = folder.join("tool");
            std::fs::write(&path, "#!/bin/sh\n").expect("write");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            path
        };
        tool(&first, 0o644);
        let executable = tool(&second, 0o755);
        let path = format!("{}:{}", first.display(), second.display());

        assert_eq!(
            resolve_program("tool", Some(&path), dir.path()),
            Some(executable)
        );
        assert_eq!(resolve_program("missing", Some(&path), dir.path()), None);
        assert_eq!(
            resolve_program("./x", Some(&path), dir.path()),
            Some(PathBuf::from("./x"))
        );
        let relative_entry = resolve_program("tool", Some("second"), dir.path());
        assert_eq!(relative_entry, Some(dir.path().join("second/tool")));
    }
}
