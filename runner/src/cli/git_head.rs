//! The commit and branch checked out in a work tree, read straight from `.git` (spec
//! section 4's `PIPEKIT_COMMIT` and `PIPEKIT_BRANCH`). `--commit` runs (a later issue) use
//! git2; a working-tree run only needs HEAD, and this keeps it free of a C library.

use std::fs;
use std::path::{Path, PathBuf};

/// What HEAD points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHead {
    /// Full sha; `None` on a branch with no commit yet.
    pub commit: Option<String>,
    /// `None` when HEAD is detached.
    pub branch: Option<String>,
}

impl GitHead {
    /// The variables jobs see.
    pub fn variables(&self) -> Vec<(String, String)> {
        let mut variables = Vec::new();
        if let Some(commit) = &self.commit {
            variables.push(("PIPEKIT_COMMIT".to_string(), commit.clone()));
        }
        if let Some(branch) = &self.branch {
            variables.push(("PIPEKIT_BRANCH".to_string(), branch.clone()));
        }
        variables
    }
}

/// HEAD of the git work tree rooted at `work_tree`, if it is one.
pub fn git_head(work_tree: &Path) -> Option<GitHead> {
    let git_dir = git_dir(work_tree)?;
    let head = fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim();
    match head.strip_prefix("ref:") {
        Some(reference) => {
            let reference = reference.trim();
            Some(GitHead {
                commit: resolve(&git_dir, reference),
                branch: Some(
                    reference
                        .strip_prefix("refs/heads/")
                        .unwrap_or(reference)
                        .into(),
                ),
            })
        }
        None => Some(GitHead {
            commit: is_sha(head).then(|| head.to_string()),
            branch: None,
        }),
    }
}

/// `.git` is a directory, or (worktrees, submodules) a file `gitdir: <path>`.
fn git_dir(work_tree: &Path) -> Option<PathBuf> {
    let dot_git = work_tree.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    let text = fs::read_to_string(&dot_git).ok()?;
    let target = text.trim().strip_prefix("gitdir:")?.trim();
    Some(work_tree.join(target))
}

/// A ref's sha: its loose file, else `packed-refs`, in the git dir and, for a linked
/// worktree, in the common dir its `commondir` file names.
fn resolve(git_dir: &Path, reference: &str) -> Option<String> {
    let mut dirs = vec![git_dir.to_path_buf()];
    if let Ok(common) = fs::read_to_string(git_dir.join("commondir")) {
        dirs.push(git_dir.join(common.trim()));
    }
    for dir in &dirs {
        if let Ok(text) = fs::read_to_string(dir.join(reference)) {
            let sha = text.trim();
            if is_sha(sha) {
                return Some(sha.to_string());
            }
        }
        if let Ok(packed) = fs::read_to_string(dir.join("packed-refs")) {
            let found = packed.lines().find_map(|line| {
                let (sha, name) = line.split_once(' ')?;
                (name.trim() == reference && is_sha(sha)).then(|| sha.to_string())
            });
            if found.is_some() {
                return found;
            }
        }
    }
    None
}

/// SHA-1 (40) or SHA-256 (64) hex.
fn is_sha(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    /// Paths and contents of a fake repository.
    type Files<'a> = Vec<(&'a str, &'a str)>;

    fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn reads_head_in_every_layout() {
        let branch = |name: &str| Some(name.to_string());
        let packed = format!("# pack-refs\n{SHA} refs/heads/feature/x\n");
        let detached = format!("{SHA}\n");
        let cases: Vec<(&str, Files, Option<GitHead>)> = vec![
            (
                "loose ref",
                vec![
                    (".git/HEAD", "ref: refs/heads/main\n"),
                    (".git/refs/heads/main", SHA),
                ],
                Some(GitHead {
                    commit: Some(SHA.into()),
                    branch: branch("main"),
                }),
            ),
            (
                "packed ref",
                vec![
                    (".git/HEAD", "ref: refs/heads/feature/x\n"),
                    (".git/packed-refs", &packed),
                ],
                Some(GitHead {
                    commit: Some(SHA.into()),
                    branch: branch("feature/x"),
                }),
            ),
            (
                "detached",
                vec![(".git/HEAD", &detached)],
                Some(GitHead {
                    commit: Some(SHA.into()),
                    branch: None,
                }),
            ),
            (
                "no commit yet",
                vec![(".git/HEAD", "ref: refs/heads/main\n")],
                Some(GitHead {
                    commit: None,
                    branch: branch("main"),
                }),
            ),
            (
                "linked worktree",
                vec![
                    (".git", "gitdir: main/.git/worktrees/wt\n"),
                    ("main/.git/worktrees/wt/HEAD", "ref: refs/heads/wt\n"),
                    ("main/.git/worktrees/wt/commondir", "../..\n"),
                    ("main/.git/refs/heads/wt", SHA),
                ],
                Some(GitHead {
                    commit: Some(SHA.into()),
                    branch: branch("wt"),
                }),
            ),
            ("not a repository", vec![("README", "hi")], None),
        ];
        for (name, files, expected) in cases {
            let dir = repo(&files);
            assert_eq!(git_head(dir.path()), expected, "{name}");
        }
    }
}
