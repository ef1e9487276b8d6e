//! The runs a commit's plan asks for, however it was triggered.

use crate::store::{NewRun, Trigger};
use pipekit_runner::commit_test::{CommitPlan, FileOutcome};

/// One run per pipeline file of `plan` that the push (if any) concerns; files that do not
/// validate are runs too, which end `invalid` with why. `git_ref`: the ref pushed or asked
/// for (`refs/heads/main`), whose branch the runs are on.
pub fn planned_runs(
    plan: CommitPlan,
    repository: &str,
    git_ref: Option<String>,
    trigger: Trigger,
) -> Vec<NewRun> {
    let branch = match git_ref.as_deref().map(|r| r.strip_prefix("refs/heads/")) {
        Some(Some(branch)) => Some(branch.to_owned()),
        Some(None) => None,
        None => plan.commit.branch.clone(),
    };
    plan.files
        .into_iter()
        .filter(|file| !matches!(file.outcome, FileOutcome::NotTriggered(_)))
        .map(|file| NewRun {
            repository: repository.to_owned(),
            pipeline: file.path.display().to_string(),
            branch: branch.clone(),
            git_ref: git_ref.clone(),
            commit: plan.commit.sha.clone(),
            message: plan.commit.message.clone(),
            author: plan.commit.author.clone(),
            trigger,
            attempt_of: None,
            rerun: None,
        })
        .collect()
}
