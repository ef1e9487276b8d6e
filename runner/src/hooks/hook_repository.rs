//! The repository a hook belongs to, opened the way git hands it to hooks.

use super::HookError;
use git2::{ErrorCode, ObjectType, Oid, Repository};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Variables git exports to hooks to locate the repository. They are relative to the
/// hook's directory and would leak into the jobs, so a run started by a hook gets its
/// repository from its working directory, or from absolute values set here.
const LOCATING_VARIABLES: [&str; 5] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
];

/// Where the hooks of a repository live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HooksDirectory {
    pub path: PathBuf,
    /// Set by `core.hooksPath` rather than the default `<git dir>/hooks`.
    pub configured: bool,
}

/// A git repository, as seen from a hook or from `pipekit-ci hook install`.
pub struct HookRepository {
    repository: Repository,
}

impl HookRepository {
    /// The repository git's environment names (`GIT_DIR`, as git sets it for hooks), else
    /// the one holding the current directory or a parent of it; bare repositories too.
    pub fn open() -> Result<Self, HookError> {
        let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        // From the environment first: besides `GIT_DIR`, that honours
        // `GIT_CEILING_DIRECTORIES` and reads the configuration the way git does
        // (`GIT_CONFIG_GLOBAL`, `GIT_CONFIG_NOSYSTEM`). Plain discovery is the fallback for
        // a `GIT_DIR` that names no repository; without one, it would only climb past the
        // ceilings.
        let repository = Repository::open_from_env()
            .or_else(|error| match std::env::var_os("GIT_DIR") {
                Some(_) => Repository::discover(&start),
                None => Err(error),
            })
            .map_err(|error| match error.code() {
                ErrorCode::NotFound => HookError::NotARepository {
                    path: start.clone(),
                    reason: error.message().to_string(),
                },
                _ => HookError::Repository {
                    path: start.clone(),
                    reason: error.message().to_string(),
                },
            })?;
        Ok(Self { repository })
    }

    /// The git dir (`.git`, a linked worktree's own dir, or the bare repository).
    pub fn git_dir(&self) -> &Path {
        self.repository.path()
    }

    /// The root of the work tree; `None` in a bare repository.
    pub fn work_tree(&self) -> Option<&Path> {
        self.repository.workdir()
    }

    pub fn is_bare(&self) -> bool {
        self.repository.is_bare()
    }

    /// Where git runs hooks, and so where a hook's runs start: the root of the work
    /// tree, or the git dir of a bare repository.
    pub fn hook_directory(&self) -> &Path {
        self.work_tree().unwrap_or_else(|| self.git_dir())
    }

    /// `core.hooksPath` (relative to where hooks run, as git reads it), else the hooks
    /// folder of the common git dir (shared by linked worktrees).
    pub fn hooks_directory(&self) -> Result<HooksDirectory, HookError> {
        let config = self
            .repository
            .config()
            .map_err(|error| self.unreadable(&error))?;
        let configured = match config.get_string("core.hooksPath") {
            Ok(value) if value.is_empty() => return Err(HookError::HooksDisabled),
            // `get_path` expands `~/` as git does.
            Ok(_) => Some(
                config
                    .get_path("core.hooksPath")
                    .map_err(|error| self.unreadable(&error))?,
            ),
            Err(error) if error.code() == ErrorCode::NotFound => None,
            Err(error) => return Err(self.unreadable(&error)),
        };
        Ok(match configured {
            Some(path) => HooksDirectory {
                // An absolute `path` replaces the base.
                path: self.hook_directory().join(path),
                configured: true,
            },
            None => HooksDirectory {
                path: self.repository.commondir().join("hooks"),
                configured: false,
            },
        })
    }

    /// `refs/heads/<branch>` HEAD is on; `None` when HEAD is detached or the branch has
    /// no commit yet.
    pub fn current_branch(&self) -> Option<String> {
        let head = self.repository.head().ok()?;
        if !head.is_branch() {
            return None;
        }
        head.name().ok().map(str::to_string)
    }

    /// The commit `sha` is or points at (an annotated tag is peeled): `Ok(None)` when it
    /// names a tree or a blob; an error when the repository does not have it.
    pub fn commit_of(&self, sha: &str) -> Result<Option<String>, git2::Error> {
        let object = self.repository.find_object(Oid::from_str(sha)?, None)?;
        match object.peel(ObjectType::Commit) {
            Ok(commit) => Ok(Some(commit.id().to_string())),
            Err(error) if error.code() == ErrorCode::InvalidSpec => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether the repository has the object `sha`.
    pub fn contains(&self, sha: &str) -> bool {
        Oid::from_str(sha).is_ok_and(|oid| self.repository.find_object(oid, None).is_ok())
    }

    /// Sets up `command` (a `pipekit-ci run`) to start where hooks run and to find this
    /// repository by itself. `index_file` is an index other than the repository's own
    /// (`git commit -a` stages into a temporary one) that a `--staged` run must read.
    pub fn prepare(&self, command: &mut Command, index_file: Option<&Path>) {
        command.current_dir(self.hook_directory());
        for variable in LOCATING_VARIABLES {
            command.env_remove(variable);
        }
        if index_file.is_some() || !self.found_from(self.hook_directory()) {
            command.env("GIT_DIR", absolute(self.git_dir()));
            if let Some(work_tree) = self.work_tree() {
                command.env("GIT_WORK_TREE", absolute(work_tree));
            }
        }
        if let Some(index_file) = index_file {
            command.env("GIT_INDEX_FILE", absolute(index_file));
        }
    }

    /// The index file git named for this hook (`GIT_INDEX_FILE`, relative to the hook's
    /// working directory), when it is not the repository's usual `index`.
    pub fn special_index_file(&self, git_index_file: Option<OsString>) -> Option<PathBuf> {
        let named = absolute(Path::new(&git_index_file?));
        let usual = absolute(&self.git_dir().join("index"));
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        (!same(&named, &usual)).then_some(named)
    }

    /// Whether discovery from `directory` (what a run does without `GIT_DIR`) lands on
    /// this repository; it does not for a git dir kept apart from its work tree.
    fn found_from(&self, directory: &Path) -> bool {
        Repository::discover(directory).is_ok_and(|found| {
            match (found.path().canonicalize(), self.git_dir().canonicalize()) {
                (Ok(found), Ok(ours)) => found == ours,
                _ => false,
            }
        })
    }

    fn unreadable(&self, error: &git2::Error) -> HookError {
        HookError::Repository {
            path: self.git_dir().to_path_buf(),
            reason: error.message().to_string(),
        }
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn init(bare: bool) -> (tempfile::TempDir, HookRepository) {
        let dir = tempfile::tempdir().expect("tempdir");
        let repository = if bare {
            Repository::init_bare(dir.path())
        } else {
            Repository::init(dir.path())
        }
        .expect("init");
        (dir, HookRepository { repository })
    }

    fn set_hooks_path(repository: &HookRepository, value: &str) {
        repository
            .repository
            .config()
            .and_then(|mut config| config.set_str("core.hooksPath", value))
            .expect("set core.hooksPath");
    }

    fn canonical(path: &Path) -> PathBuf {
        path.canonicalize()
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    #[test]
    fn hooks_directory_follows_core_hooks_path_like_git() {
        // (bare, core.hooksPath, expected relative to the repository's directory)
        let cases: [(bool, Option<&str>, &str); 5] = [
            (false, None, ".git/hooks"),
            (false, Some(".githooks"), ".githooks"),
            (false, Some("tools/hooks"), "tools/hooks"),
            (true, None, "hooks"),
            (true, Some("server-hooks"), "server-hooks"),
        ];
        for (bare, configured, expected) in cases {
            let (dir, repository) = init(bare);
            if let Some(value) = configured {
                set_hooks_path(&repository, value);
            }
            let found = repository.hooks_directory().expect("hooks directory");
            assert_eq!(
                found.path.components().collect::<PathBuf>(),
                canonical(dir.path()).join(expected),
                "bare={bare} core.hooksPath={configured:?}"
            );
            assert_eq!(found.configured, configured.is_some());
        }
    }

    #[test]
    fn absolute_core_hooks_path_is_taken_as_is() {
        let (_dir, repository) = init(false);
        let elsewhere = tempfile::tempdir().expect("tempdir");
        let path = elsewhere.path().join("hooks");
        set_hooks_path(&repository, &path.display().to_string());
        assert_eq!(
            repository.hooks_directory().expect("hooks directory").path,
            path
        );
    }

    #[test]
    fn empty_core_hooks_path_means_git_runs_no_hooks() {
        let (_dir, repository) = init(false);
        set_hooks_path(&repository, "");
        assert!(matches!(
            repository.hooks_directory(),
            Err(HookError::HooksDisabled)
        ));
    }

    #[test]
    fn unborn_branch_is_no_current_branch() {
        let (_dir, repository) = init(false);
        assert_eq!(repository.current_branch(), None);
    }
}
