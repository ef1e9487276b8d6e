//! A bare copy of a repository that lives elsewhere (`file://`, `git://`, `http://`; spec
//! 8), under `<data>/mirrors/<name>.git`: fetched with git2 before each read, so that the
//! poll, the hooks and the runs read commits from this machine.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// The origin's branches and tags, as they are there: a branch or tag deleted there is
/// deleted here (`prune`), and one moved backwards moves back (`+`).
const REFSPECS: [&str; 2] = ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"];

/// A served repository's mirror: where its origin is and where its copy goes.
#[derive(Debug)]
pub struct Mirror {
    url: String,
    path: PathBuf,
    /// One fetch at a time: a poll and a webhook fetching together would fight over the
    /// refs' lock files, and the second would fail for nothing.
    fetching: Mutex<()>,
}

/// Why a mirror could not be made or brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    #[error("cannot create the mirror `{path}`")]
    Create {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("cannot fetch `{url}`")]
    Fetch {
        url: String,
        #[source]
        source: git2::Error,
    },
}

impl Mirror {
    /// The mirror of `url` at `path` (nothing is touched yet).
    pub fn new(url: &str, path: &Path) -> Mirror {
        Mirror {
            url: url.to_owned(),
            path: path.to_owned(),
            fetching: Mutex::new(()),
        }
    }

    /// The origin, as the config names it.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bare repository the service reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the bare repository if it is not there yet; no network, so that a server
    /// starts whether or not its origins answer.
    pub fn create(&self) -> Result<git2::Repository, MirrorError> {
        let failed = |source| MirrorError::Create {
            path: self.path.clone(),
            source,
        };
        match git2::Repository::open_bare(&self.path) {
            Ok(repository) => Ok(repository),
            Err(error) if error.code() == git2::ErrorCode::NotFound => {
                git2::Repository::init_bare(&self.path).map_err(failed)
            }
            Err(error) => Err(failed(error)),
        }
    }

    /// Brings the mirror's branches and tags to the origin's (blocking: network and disk).
    pub fn fetch(&self) -> Result<(), MirrorError> {
        let _one_at_a_time = self.fetching.lock().unwrap_or_else(PoisonError::into_inner);
        // Made again if it went (a data folder cleaned by hand): the next fetch restores it.
        let repository = self.create()?;
        let failed = |source| MirrorError::Fetch {
            url: self.url.clone(),
            source,
        };
        let mut remote = repository.remote_anonymous(&self.url).map_err(failed)?;
        let mut options = git2::FetchOptions::new();
        options
            .prune(git2::FetchPrune::On)
            // The tags come through the refspec, all of them, not only those on branches.
            .download_tags(git2::AutotagOption::None)
            .update_fetchhead(false);
        remote
            .fetch(&REFSPECS, Some(&mut options), None)
            .map_err(failed)?;
        Ok(())
    }
}

/// Bounds on how long a fetch waits for an origin: without them, an origin that accepts
/// the connection and then says nothing would hold its repository's poll forever.
#[expect(
    unsafe_code,
    reason = "libgit2's global options are set through git2's unsafe setters"
)]
pub fn limit_fetch_waits() -> Result<(), git2::Error> {
    // SAFETY: called once, before the runtime's threads exist and so before any fetch;
    // libgit2 reads these settings when it connects.
    unsafe {
        git2::opts::set_server_connect_timeout_in_milliseconds(CONNECT_TIMEOUT_MS)?;
        git2::opts::set_server_timeout_in_milliseconds(READ_TIMEOUT_MS)?;
    }
    Ok(())
}

const CONNECT_TIMEOUT_MS: libc::c_int = 10_000;
const READ_TIMEOUT_MS: libc::c_int = 60_000;

#[cfg(test)]
mod tests {
    use super::*;

    fn commit_on_main(repository: &git2::Repository, message: &str) -> git2::Oid {
        let signature = git2::Signature::now("Test", "test@example.invalid").expect("signature");
        let tree = {
            let mut index = repository.index().expect("index");
            repository
                .find_tree(index.write_tree().expect("tree"))
                .expect("tree")
        };
        let parent = repository
            .find_reference("refs/heads/main")
            .ok()
            .and_then(|reference| reference.peel_to_commit().ok());
        let parents: Vec<_> = parent.iter().collect();
        repository
            .commit(
                Some("refs/heads/main"),
                &signature,
                &signature,
                message,
                &tree,
                &parents,
            )
            .expect("commit")
    }

    #[test]
    fn a_fetch_copies_branches_and_tags_and_prunes_what_went() {
        let dir = tempfile::tempdir().expect("tempdir");
        let origin = git2::Repository::init_bare(dir.path().join("origin.git")).expect("origin");
        let first = commit_on_main(&origin, "First");
        let commit = origin.find_commit(first).expect("commit");
        origin.branch("gone", &commit, false).expect("branch");
        origin
            .tag_lightweight("v1", commit.as_object(), false)
            .expect("tag");
        let url = format!("file://{}", dir.path().join("origin.git").display());
        let mirror = Mirror::new(&url, &dir.path().join("mirrors/app.git"));

        mirror.fetch().expect("first fetch");
        let copy = git2::Repository::open_bare(mirror.path()).expect("a bare mirror");
        let tip = |name: &str| {
            copy.refname_to_id(name)
                .ok()
                .map(|id| id.to_string())
                .unwrap_or_default()
        };
        assert_eq!(tip("refs/heads/main"), first.to_string());
        assert_eq!(tip("refs/heads/gone"), first.to_string());
        assert_eq!(tip("refs/tags/v1"), first.to_string());

        let second = commit_on_main(&origin, "Second");
        origin
            .find_branch("gone", git2::BranchType::Local)
            .expect("branch")
            .delete()
            .expect("delete");
        mirror.fetch().expect("second fetch");
        assert_eq!(tip("refs/heads/main"), second.to_string());
        assert_eq!(tip("refs/heads/gone"), "", "pruned");
    }

    #[test]
    fn an_origin_that_is_not_there_is_an_error_naming_it_and_the_mirror_stays() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("file://{}", dir.path().join("nowhere.git").display());
        let mirror = Mirror::new(&url, &dir.path().join("mirrors/app.git"));
        let error = mirror.fetch().expect_err("no origin");
        assert!(error.to_string().contains("nowhere.git"), "{error}");
        assert!(git2::Repository::open_bare(mirror.path()).is_ok());
    }
}
