//! What testing a commit reads before anything runs or is checked out: the commit, which of
//! its pipeline files apply, each one validated and its `on:` decided. An invalid file
//! runs nothing, and a push that concerns no pipeline costs no checkout.

use super::commit_plan_error::CommitPlanError;
use super::push_event::PushEvent;
use crate::git::{CommitInfo, Revision, SourceRepo};
use git2::Oid;
use pipekit_schema::{Diagnostics, Parsed, Source, SourceTextError};
use std::path::PathBuf;

/// Which pipeline files of the commit to test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PipelineChoice {
    /// This file, a path in the repository.
    File(PathBuf),
    /// `pipekit.yml`, else `pipekit.yaml`, in this folder of the repository.
    DefaultIn(PathBuf),
    /// Every pipeline file of the commit, as a push tests them.
    All,
}

/// The commit under test and what became of each of its chosen pipeline files.
#[derive(Debug)]
pub struct CommitPlan {
    pub commit: CommitInfo,
    pub tree: Oid,
    /// The commit as messages name it: the revision asked for, or `the index`.
    pub shown: String,
    /// In the order they run.
    pub files: Vec<PlannedFile>,
}

/// One pipeline file of the commit.
#[derive(Debug)]
pub struct PlannedFile {
    /// Its path in the repository.
    pub path: PathBuf,
    pub outcome: FileOutcome,
}

/// Whether a pipeline file runs, and why not.
#[derive(Debug)]
pub enum FileOutcome {
    /// It validated and the push, if any, concerns it.
    Run(Parsed),
    /// It validated, but its `on:` does not take this push: why.
    NotTriggered(String),
    /// Its bytes are no pipeline text (too large, not UTF-8).
    Unreadable(SourceTextError),
    /// It does not validate: every problem, against its text.
    Invalid {
        source: Source,
        problems: Diagnostics,
    },
}

impl CommitPlan {
    /// Reads `revision` (or the index) of `repo` and plans its pipeline files. `push`: the
    /// push being tested, whose ref and changed paths the files' `on:` decide on.
    pub fn read(
        repo: &SourceRepo,
        revision: &Revision,
        push: Option<&PushEvent>,
        choice: &PipelineChoice,
    ) -> Result<CommitPlan, CommitPlanError> {
        let (commit, tree, shown) = resolve(repo, revision, push)?;
        let paths = chosen_paths(repo, tree, choice)?;
        let changed = match (push.and_then(|push| push.before.as_ref()), revision) {
            (Some(before), _) => Some(repo.changed_paths(before, tree)?),
            (None, Revision::Staged) if !commit.sha.is_empty() => {
                Some(repo.changed_paths("HEAD", tree)?)
            }
            (None, _) => None,
        };
        let mut files = Vec::with_capacity(paths.len());
        for path in paths {
            let bytes = repo
                .read_file(tree, &path)?
                .ok_or_else(|| CommitPlanError::NotAFile {
                    file: path.clone(),
                    shown: shown.clone(),
                })?;
            let outcome = match Source::from_bytes(path.display().to_string(), bytes) {
                Err(error) => FileOutcome::Unreadable(error),
                Ok(source) => match pipekit_schema::parse(&source) {
                    Err(problems) => FileOutcome::Invalid { source, problems },
                    Ok(parsed) => {
                        let why = push.and_then(|push| {
                            push.skip_reason(&parsed.pipeline, changed.as_deref())
                        });
                        match why {
                            Some(why) => FileOutcome::NotTriggered(why),
                            None => FileOutcome::Run(parsed),
                        }
                    }
                },
            };
            files.push(PlannedFile { path, outcome });
        }
        Ok(CommitPlan {
            commit,
            tree,
            shown,
            files,
        })
    }
}

/// The commit to test, its tree, and how to name it in messages.
fn resolve(
    repo: &SourceRepo,
    revision: &Revision,
    push: Option<&PushEvent>,
) -> Result<(CommitInfo, Oid, String), CommitPlanError> {
    let pushed = push.map(|push| push.reference.as_str());
    let (mut commit, tree, shown) = match revision {
        Revision::Commit(rev) => {
            let hint = pushed.and_then(|r| r.strip_prefix("refs/heads/"));
            let (commit, tree) = repo.resolve(rev, hint)?;
            (commit, tree, rev.clone())
        }
        _ => {
            let (commit, tree) = repo.staged()?;
            (commit, tree, "the index".to_string())
        }
    };
    // A tag push is on no branch, whatever HEAD is on.
    if pushed.is_some_and(|r| r.starts_with("refs/tags/")) {
        commit.branch = None;
    }
    Ok((commit, tree, shown))
}

fn chosen_paths(
    repo: &SourceRepo,
    tree: Oid,
    choice: &PipelineChoice,
) -> Result<Vec<PathBuf>, CommitPlanError> {
    match choice {
        PipelineChoice::File(file) => Ok(vec![file.clone()]),
        PipelineChoice::All => Ok(repo.pipeline_files(tree)?),
        PipelineChoice::DefaultIn(folder) => {
            let present = repo.pipeline_files(tree)?;
            ["pipekit.yml", "pipekit.yaml"]
                .iter()
                .map(|name| folder.join(name))
                .find(|candidate| {
                    present.contains(candidate)
                        || repo.read_file(tree, candidate).ok().flatten().is_some()
                })
                .map(|file| vec![file])
                .ok_or_else(|| CommitPlanError::NoDefaultFile {
                    folder: folder.clone(),
                })
        }
    }
}
