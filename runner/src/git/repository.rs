//! Opening the repository and asking it about commits, the index and changes.

use super::{CommitInfo, GitError};
use git2::{ErrorCode, ObjectType, Oid, Repository, StatusOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// What a run tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    /// The working tree as it is, shared by every job (the default).
    WorkingTree,
    /// `--commit REV`: clean per-job checkouts of that commit.
    Commit(String),
    /// `--staged`: the index written as a tree (what `git commit` would record).
    Staged,
}

/// The repository a run tests.
pub struct SourceRepo {
    repo: Repository,
}

impl SourceRepo {
    /// The repository git's own environment names (`GIT_DIR`, as hooks get it) when the
    /// caller says it is set (`git_env`), else the one holding `start`.
    pub fn open(start: &Path, git_env: bool) -> Result<SourceRepo, GitError> {
        let opened = if git_env {
            Repository::open_from_env()
        } else {
            Repository::discover(start)
        };
        let repo = opened.map_err(|error| match error.code() {
            ErrorCode::NotFound => GitError::NotARepository {
                path: start.to_path_buf(),
            },
            _ => GitError::Corrupt {
                path: start.to_path_buf(),
                reason: error.message().to_string(),
            },
        })?;
        Ok(SourceRepo { repo })
    }

    /// The work tree's root; `None` in a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// `.git` (or the bare repository itself).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    fn corrupt(&self, error: &git2::Error) -> GitError {
        GitError::Corrupt {
            path: self.repo.path().to_path_buf(),
            reason: error.message().to_string(),
        }
    }

    /// The commit `rev` names and its tree. `branch_hint` (a pushed ref) names the branch
    /// when `rev` itself does not.
    pub fn resolve(
        &self,
        rev: &str,
        branch_hint: Option<&str>,
    ) -> Result<(CommitInfo, Oid), GitError> {
        let object = self
            .repo
            .revparse_single(rev)
            .map_err(|error| match error.code() {
                ErrorCode::NotFound | ErrorCode::InvalidSpec | ErrorCode::Ambiguous => {
                    GitError::UnknownRevision {
                        rev: rev.to_string(),
                        shallow: self.repo.is_shallow(),
                    }
                }
                _ => self.corrupt(&error),
            })?;
        let commit = object
            .peel_to_commit()
            .map_err(|error| GitError::NotACommit {
                rev: rev.to_string(),
                reason: error.message().to_string(),
            })?;
        let branch = self
            .branch_named(rev)
            .or_else(|| branch_hint.map(str::to_string))
            .or_else(|| self.head_branch_at(commit.id()));
        let info = commit_info(&commit, branch, None, false);
        Ok((info, commit.tree_id()))
    }

    /// `--staged`: the index as a tree, described by HEAD's commit.
    pub fn staged(&self) -> Result<(CommitInfo, Oid), GitError> {
        if self.repo.is_bare() {
            return Err(GitError::NoIndex);
        }
        let mut index = self.repo.index().map_err(|e| self.corrupt(&e))?;
        // Writes tree objects only; the index file itself is not changed.
        let tree = index.write_tree().map_err(|e| self.corrupt(&e))?;
        let info = match self.head_commit() {
            Ok(head) => {
                let branch = self.head_branch_at(head.id());
                let mut info = commit_info(&head, branch, None, true);
                info.message = format!("staged changes on top of: {}", info.message);
                info
            }
            // The first commit of a repository: nothing to describe it by but its branch.
            Err(GitError::Unborn) => CommitInfo {
                sha: String::new(),
                branch: self.unborn_branch(),
                message: "staged changes (no commit yet)".into(),
                author: String::new(),
                dirty: None,
                staged: true,
            },
            Err(error) => return Err(error),
        };
        Ok((info, tree))
    }

    /// A working-tree run: HEAD, and whether the tree differs from it. `None` before the
    /// first commit.
    pub fn head(&self) -> Option<CommitInfo> {
        let head = self.head_commit().ok()?;
        let branch = self.head_branch_at(head.id());
        Some(commit_info(&head, branch, Some(self.is_dirty()), false))
    }

    fn head_commit(&self) -> Result<git2::Commit<'_>, GitError> {
        let head = self.repo.head().map_err(|error| match error.code() {
            ErrorCode::UnbornBranch | ErrorCode::NotFound => GitError::Unborn,
            _ => self.corrupt(&error),
        })?;
        head.peel_to_commit().map_err(|e| self.corrupt(&e))
    }

    fn is_dirty(&self) -> bool {
        let mut options = StatusOptions::new();
        options.include_untracked(true).include_ignored(false);
        self.repo
            .statuses(Some(&mut options))
            .map(|statuses| !statuses.is_empty())
            .unwrap_or(false)
    }

    /// The branch HEAD names before its first commit.
    fn unborn_branch(&self) -> Option<String> {
        let head = self.repo.find_reference("HEAD").ok()?;
        let target = head.symbolic_target().ok()??;
        target.strip_prefix("refs/heads/").map(str::to_string)
    }

    /// `main` for `main` or `refs/heads/main`, if that branch exists.
    fn branch_named(&self, rev: &str) -> Option<String> {
        let name = rev.strip_prefix("refs/heads/").unwrap_or(rev);
        self.repo
            .find_branch(name, git2::BranchType::Local)
            .ok()
            .map(|_| name.to_string())
    }

    /// HEAD's branch, if HEAD is on one and it points at `commit`.
    fn head_branch_at(&self, commit: Oid) -> Option<String> {
        let head = self.repo.head().ok()?;
        if !head.is_branch() || head.target() != Some(commit) {
            return None;
        }
        head.shorthand().ok().map(str::to_string)
    }

    /// Paths (`/`-separated, from the root) that differ between `before`'s tree and `tree`.
    pub fn changed_paths(&self, before: &str, tree: Oid) -> Result<Vec<String>, GitError> {
        let unknown = || GitError::UnknownRevision {
            rev: before.to_string(),
            shallow: self.repo.is_shallow(),
        };
        let old = self
            .repo
            .revparse_single(before)
            .and_then(|object| object.peel_to_tree())
            .map_err(|_| unknown())?;
        let new = self.repo.find_tree(tree).map_err(|e| self.corrupt(&e))?;
        let diff = self
            .repo
            .diff_tree_to_tree(Some(&old), Some(&new), None)
            .map_err(|e| self.corrupt(&e))?;
        let mut paths = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(path) = file.path().and_then(Path::to_str)
                    && !paths.iter().any(|known| known == path)
                {
                    paths.push(path.to_string());
                }
            }
        }
        Ok(paths)
    }

    /// Writes `tree` into the empty folder `destination`: files with their executable
    /// bit, symbolic links as links, submodules as empty folders. Reads objects only, so
    /// the work tree, the index and HEAD are never touched (it works in a bare repository).
    ///
    /// A tree is data someone pushed: every name is checked as git itself would before a
    /// checkout (no `/`, `..`, `.git`, ...), folders are made one level at a time and never
    /// through a symbolic link, and files are created new, so nothing lands outside
    /// `destination`.
    ///
    /// `stop` is looked at before every entry: once set, the export ends with
    /// [`GitError::Stopped`] (the caller removes what was written).
    pub fn export(
        &self,
        tree: Oid,
        destination: &Path,
        stop: &AtomicBool,
    ) -> Result<usize, GitError> {
        let tree = self.repo.find_tree(tree).map_err(|e| self.corrupt(&e))?;
        let mut files = 0;
        self.export_tree(&tree, destination, Path::new(""), &mut files, stop)?;
        Ok(files)
    }

    fn export_tree(
        &self,
        tree: &git2::Tree<'_>,
        destination: &Path,
        relative: &Path,
        files: &mut usize,
        stop: &AtomicBool,
    ) -> Result<(), GitError> {
        for entry in tree.iter() {
            if stop.load(Ordering::Relaxed) {
                return Err(GitError::Stopped);
            }
            let name = checked_name(entry.name_bytes()).ok_or_else(|| GitError::Checkout {
                what: format!(
                    "`{}`",
                    relative
                        .join(String::from_utf8_lossy(entry.name_bytes()).as_ref())
                        .display()
                ),
                path: destination.to_path_buf(),
                reason: "the tree holds a name git would never check out (`..`, `/`, `.git`, \
                         ...)"
                    .into(),
            })?;
            let inside = relative.join(name);
            let path = destination.join(&inside);
            let failed = |reason: String| GitError::Checkout {
                what: format!("`{}`", inside.display()),
                path: destination.to_path_buf(),
                reason,
            };
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    std::fs::create_dir(&path).map_err(|e| failed(e.to_string()))?;
                    let subtree = self
                        .repo
                        .find_tree(entry.id())
                        .map_err(|e| self.corrupt(&e))?;
                    self.export_tree(&subtree, destination, &inside, files, stop)?;
                }
                Some(ObjectType::Blob) => {
                    *files += 1;
                    self.write_blob(entry.id(), entry.filemode(), &path)
                        .map_err(failed)?;
                }
                // A submodule: its commit is not in this repository.
                Some(ObjectType::Commit) => {
                    std::fs::create_dir(&path).map_err(|e| failed(e.to_string()))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn write_blob(&self, id: Oid, mode: i32, path: &Path) -> Result<(), String> {
        const SYMLINK: i32 = 0o120000;
        const EXECUTABLE: i32 = 0o100755;
        let blob = self
            .repo
            .find_blob(id)
            .map_err(|e| e.message().to_string())?;
        if mode == SYMLINK {
            let target = std::ffi::OsStr::from_bytes(blob.content());
            return std::os::unix::fs::symlink(target, path).map_err(|e| e.to_string());
        }
        // `create_new` (O_EXCL) never follows a link nor reuses a file already there.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        std::os::unix::fs::OpenOptionsExt::mode(
            &mut options,
            if mode == EXECUTABLE { 0o755 } else { 0o644 },
        );
        let mut file = options.open(path).map_err(|e| e.to_string())?;
        file.write_all(blob.content()).map_err(|e| e.to_string())
    }

    /// The content of the regular file at `path` in `tree`; `None` when there is none (a
    /// symbolic link does not count: its target may be anywhere on the host).
    pub fn read_file(&self, tree: Oid, path: &Path) -> Result<Option<Vec<u8>>, GitError> {
        const SYMLINK: i32 = 0o120000;
        let tree = self.repo.find_tree(tree).map_err(|e| self.corrupt(&e))?;
        let Ok(entry) = tree.get_path(path) else {
            return Ok(None);
        };
        if entry.kind() != Some(ObjectType::Blob) || entry.filemode() == SYMLINK {
            return Ok(None);
        }
        let blob = self
            .repo
            .find_blob(entry.id())
            .map_err(|e| self.corrupt(&e))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// The pipeline files a push considers in `tree`: `pipekit.yml` (or `.yaml`) at the root
    /// and every `.pipekit/*.yml` / `*.yaml`, in that order.
    pub fn pipeline_files(&self, tree: Oid) -> Result<Vec<PathBuf>, GitError> {
        let tree = self.repo.find_tree(tree).map_err(|e| self.corrupt(&e))?;
        let mut files = Vec::new();
        for name in ["pipekit.yml", "pipekit.yaml"] {
            if tree.get_name(name).is_some() {
                files.push(PathBuf::from(name));
                break;
            }
        }
        if let Some(entry) = tree.get_name(".pipekit")
            && let Ok(folder) = self.repo.find_tree(entry.id())
        {
            let mut more: Vec<PathBuf> = folder
                .iter()
                .filter(|entry| entry.kind() == Some(ObjectType::Blob))
                .filter_map(|entry| entry.name().ok().map(str::to_string))
                .filter(|name| name.ends_with(".yml") || name.ends_with(".yaml"))
                .map(|name| Path::new(".pipekit").join(name))
                .collect();
            more.sort();
            files.extend(more);
        }
        Ok(files)
    }
}

fn commit_info(
    commit: &git2::Commit<'_>,
    branch: Option<String>,
    dirty: Option<bool>,
    staged: bool,
) -> CommitInfo {
    let author = commit.author();
    let name = String::from_utf8_lossy(author.name_bytes()).into_owned();
    let email = String::from_utf8_lossy(author.email_bytes()).into_owned();
    CommitInfo {
        sha: commit.id().to_string(),
        branch,
        message: String::from_utf8_lossy(commit.message_bytes())
            .trim_end()
            .to_string(),
        author: format!("{name} <{email}>"),
        dirty,
        staged,
    }
}

/// A tree entry's name if git would check it out: not empty, `.` or `..`, no `/` or NUL,
/// not `.git` in any case.
fn checked_name(name: &[u8]) -> Option<&std::ffi::OsStr> {
    let refused = name.is_empty()
        || name == b"."
        || name == b".."
        || name.contains(&b'/')
        || name.contains(&0)
        || name.eq_ignore_ascii_case(b".git");
    (!refused).then(|| std::ffi::OsStr::from_bytes(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A raw tree object, as someone could push it (libgit2's tree builder refuses these
    /// names, the object database does not).
    fn hostile_tree(repo: &Repository, entries: &[(&str, &[u8], Oid)]) -> Oid {
        let mut raw = Vec::new();
        for (mode, name, id) in entries {
            raw.extend_from_slice(mode.as_bytes());
            raw.push(b' ');
            raw.extend_from_slice(name);
            raw.push(0);
            raw.extend_from_slice(id.as_bytes());
        }
        repo.odb()
            .expect("odb")
            .write(ObjectType::Tree, &raw)
            .expect("write tree")
    }

    #[test]
    fn hostile_names_and_links_never_write_outside_the_export() {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path().join("repo")).expect("init");
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).expect("mkdir");
        let blob = repo.blob(b"pwned").expect("blob");
        let link = repo
            .blob(outside.as_os_str().as_bytes())
            .expect("link blob");
        let absolute = outside.join("abs");
        let inner = hostile_tree(&repo, &[("100644", b"evil", blob)]);
        let cases: Vec<(&str, Oid)> = vec![
            (
                "absolute",
                hostile_tree(&repo, &[("100644", absolute.as_os_str().as_bytes(), blob)]),
            ),
            ("dot-dot", hostile_tree(&repo, &[("40000", b"..", inner)])),
            ("slash", hostile_tree(&repo, &[("100644", b"a/b", blob)])),
            ("dot-git", hostile_tree(&repo, &[("40000", b".GIT", inner)])),
            (
                "link then folder",
                hostile_tree(&repo, &[("120000", b"a", link), ("40000", b"a", inner)]),
            ),
        ];
        let source = SourceRepo { repo };
        for (case, tree) in cases {
            let destination = dir
                .path()
                .join(format!("export-{}", case.replace(' ', "-")));
            std::fs::create_dir(&destination).expect("mkdir");
            let result = source.export(tree, &destination, &AtomicBool::new(false));
            assert!(
                matches!(result, Err(GitError::Checkout { .. })),
                "{case}: {result:?}"
            );
            let leaked: Vec<_> = std::fs::read_dir(&outside).expect("read").collect();
            assert!(leaked.is_empty(), "{case} wrote outside: {leaked:?}");
        }
    }
}
