//! Finding a job's program on the job's own `PATH`.
//!
//! Why not leave it to the OS: when the child's `PATH` differs from pipekit-ci's (it always
//! may, since jobs get their own environment), std cannot use `posix_spawnp` and falls back
//! to `fork`, which copies pipekit-ci's page tables for every job; resolving the path here
//! keeps the cheap spawn and searches the PATH the job will actually have.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

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
