//! Polling (spec 8): each served repository's branches are read every so often, and what
//! moved is queued as a push of it would be: every pipeline file of the new tip whose
//! `on:` takes the push. The first poll of a repository only learns its branches. A
//! repository elsewhere is fetched into its mirror first, so that every poll reads what the
//! origin has now.

use crate::error_chain::error_chain;
use crate::mirror::MirrorError;
use crate::planned_runs::planned_runs;
use crate::queue_runner::QueueRunner;
use crate::store::{StoreError, Trigger};
use pipekit_runner::commit_test::{CommitPlan, CommitPlanError, PipelineChoice, PushEvent};
use pipekit_runner::git::{GitError, Revision, SourceRepo};
use pipekit_runner::session::CancelSignal;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Why a poll of a repository failed; the next one tries again.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("cannot read the branches of `{path}`")]
    Branches {
        path: String,
        #[source]
        source: git2::Error,
    },
    #[error(transparent)]
    Fetch(#[from] MirrorError),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Plan(#[from] CommitPlanError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads `repository`'s branches and queues the pipelines of each one that moved or is
/// new since the last poll. The ids queued.
pub fn poll_once(runner: &QueueRunner, repository: &str) -> Result<Vec<i64>, PollError> {
    let path = runner
        .service()
        .repositories
        .get(repository)
        .ok_or_else(|| StoreError::UnknownRepository(repository.to_owned()))?
        .clone();
    if let Some(mirror) = runner.service().mirrors.get(repository) {
        mirror.fetch()?;
    }
    let tips = branch_tips(&path)?;
    let known = runner.store().branch_tips(repository)?;
    let mut queued = Vec::new();
    if let Some(known) = known {
        let moved = tips
            .iter()
            .filter(|(branch, sha)| known.get(*branch) != Some(*sha));
        for (branch, sha) in moved {
            let push = PushEvent::new(format!("refs/heads/{branch}"), known.get(branch).cloned());
            queued.extend(queue_push(runner, repository, &push, sha, Trigger::Poll)?);
        }
    }
    runner
        .store()
        .set_branch_tips(repository, &tips, SystemTime::now())?;
    Ok(queued)
}

/// Polls `repository` now and then every `every`, until `stop`. A poll that fails is told
/// to `failed` and tried again at the next.
pub async fn poll_every(
    runner: Arc<QueueRunner>,
    repository: String,
    every: Duration,
    mut stop: CancelSignal,
    failed: impl Fn(&str, &PollError) + Send + Sync + 'static,
) {
    let failed = Arc::new(failed);
    loop {
        let (runner, failed, name) = (runner.clone(), failed.clone(), repository.clone());
        // Off the runtime's threads: git reads block, and a repository may be large.
        let polled = tokio::task::spawn_blocking(move || match poll_once(&runner, &name) {
            Ok(_) => runner.note_read(&name, None),
            Err(error) => {
                runner.note_read(&name, Some(error_chain(&error)));
                failed(&name, &error);
            }
        });
        let _ = polled.await;
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stop.cancelled() => return,
        }
    }
}

/// Fetches `repository` into its mirror, if it lives elsewhere (blocking: the network).
/// How it went is noted as the repository's read: a failure is shown until a read works.
pub fn fetch_mirror(runner: &QueueRunner, repository: &str) -> Result<(), MirrorError> {
    let Some(mirror) = runner.service().mirrors.get(repository) else {
        return Ok(());
    };
    let fetched = mirror.fetch();
    let problem = fetched.as_ref().err().map(|error| error_chain(error));
    runner.note_read(repository, problem);
    fetched
}

/// Every local branch's tip commit.
fn branch_tips(path: &Path) -> Result<BTreeMap<String, String>, PollError> {
    let failed = |source| PollError::Branches {
        path: path.display().to_string(),
        source,
    };
    let repo = git2::Repository::open(path).map_err(failed)?;
    let mut tips = BTreeMap::new();
    for branch in repo
        .branches(Some(git2::BranchType::Local))
        .map_err(failed)?
    {
        let (branch, _) = branch.map_err(failed)?;
        let (Ok(Some(name)), Ok(commit)) = (branch.name(), branch.get().peel_to_commit()) else {
            // A branch whose name is not UTF-8 or that points at no commit is not tested.
            continue;
        };
        tips.insert(name.to_owned(), commit.id().to_string());
    }
    Ok(tips)
}

/// Queues what a push of `sha` to `push.reference` asks for: every pipeline file of the
/// commit whose `on:` takes the push, if the repository tests the branch at all. The ids
/// queued (a commit and pipeline queued before are not queued again). Hooks, webhooks and
/// polls all come here, so the repository's `branches:` is applied once, here.
pub fn queue_push(
    runner: &QueueRunner,
    repository: &str,
    push: &PushEvent,
    sha: &str,
    trigger: Trigger,
) -> Result<Vec<i64>, PollError> {
    let path = runner
        .service()
        .repositories
        .get(repository)
        .ok_or_else(|| StoreError::UnknownRepository(repository.to_owned()))?;
    if !runner
        .service()
        .push_policy(repository)
        .tests_ref(&push.reference)
    {
        return Ok(Vec::new());
    }
    let repo = SourceRepo::open(path, false)?;
    let revision = Revision::Commit(sha.to_owned());
    let plan = CommitPlan::read(&repo, &revision, Some(push), &PipelineChoice::All)?;
    drop(repo);
    let git_ref = Some(push.reference.clone());
    let supersedes = runner.service().push_policy(repository).cancel_superseded;
    let mut queued = Vec::new();
    for run in planned_runs(plan, repository, git_ref, trigger) {
        let Some(id) = runner.enqueue(&run)? else {
            continue;
        };
        if supersedes {
            runner.supersede(id)?;
        }
        queued.push(id);
    }
    Ok(queued)
}
