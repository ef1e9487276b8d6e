//! Finding the JUnit files a job's own test runner wrote (its `junit:` globs).

use globset::{Glob, GlobSetBuilder};
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Files under `tree` matching `patterns` (paths or globs relative to it), sorted.
/// Plain paths are looked up directly; only globs walk the tree.
pub fn find_junit_files(tree: &Path, patterns: &[String]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut globs = GlobSetBuilder::new();
    let mut any_glob = false;
    for pattern in patterns {
        if pattern.contains(['*', '?', '[', '{']) {
            if let Ok(glob) = Glob::new(pattern) {
                globs.add(glob);
                any_glob = true;
            }
        } else {
            let path = tree.join(pattern);
            if path.is_file() {
                found.push(path);
            }
        }
    }
    if any_glob && let Ok(set) = globs.build() {
        let walk = WalkDir::new(tree).into_iter().filter_entry(|entry| {
            // Version control and pipekit's own run folders never hold a job's reports.
            !matches!(entry.file_name().to_str(), Some(".git" | ".pipekit"))
        });
        for entry in walk.flatten() {
            if entry.file_type().is_file()
                && let Ok(relative) = entry.path().strip_prefix(tree)
                && set.is_match(relative)
            {
                found.push(entry.path().to_path_buf());
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A job's JUnit files when it exited: those in its source tree, and, in a commit run, those
/// its artifacts took along when they were moved out of its checkout into `staged`.
pub fn find_job_junit_files(
    tree: &Path,
    staged: Option<&Path>,
    patterns: &[String],
) -> Vec<PathBuf> {
    let mut files = find_junit_files(tree, patterns);
    if let Some(staged) = staged {
        let found: Vec<PathBuf> = files
            .iter()
            .filter_map(|file| file.strip_prefix(tree).ok().map(Path::to_path_buf))
            .collect();
        files.extend(
            find_junit_files(staged, patterns)
                .into_iter()
                .filter(|file| {
                    file.strip_prefix(staged)
                        .is_ok_and(|relative| !found.iter().any(|seen| seen == relative))
                }),
        );
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plain_paths_and_globs_but_not_run_folders() {
        let dir = tempfile::tempdir().expect("tempdir");
        for file in [
            "report.xml",
            "target/a/junit.xml",
            "target/b/junit.xml",
            ".pipekit/x/junit.xml",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, "<testsuites/>").expect("write");
        }
        let patterns = [
            "report.xml".into(),
            "**/junit.xml".into(),
            "missing.xml".into(),
        ];
        let found: Vec<String> = find_junit_files(dir.path(), &patterns)
            .iter()
            .map(|p| {
                p.strip_prefix(dir.path())
                    .expect("inside")
                    .display()
                    .to_string()
            })
            .collect();
        assert_eq!(
            found,
            ["report.xml", "target/a/junit.xml", "target/b/junit.xml"]
        );
    }

    #[test]
    fn a_job_s_files_moved_with_its_artifacts_are_found_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tree, staged) = (dir.path().join("tree"), dir.path().join("staged"));
        for file in [
            tree.join("reports/a.xml"),
            staged.join("reports/a.xml"),
            staged.join("reports/b.xml"),
        ] {
            std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
            std::fs::write(file, "<testsuites/>").expect("write");
        }
        let patterns = ["reports/*.xml".to_owned()];
        assert_eq!(
            find_job_junit_files(&tree, Some(&staged), &patterns),
            [tree.join("reports/a.xml"), staged.join("reports/b.xml")]
        );
    }
}
