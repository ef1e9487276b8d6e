//! A job's state as a commit status tells it, and each forge's nearest word for it.

use super::forge_kind::ForgeKind;
use pipekit_runner::scheduler::{FailReason, Outcome};

/// Where a job is, in the words of the outbox (stored as [`JobStatus::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    /// Its run started and it has not: it waits for a slot or for its conditions.
    Pending,
    Running,
    Passed,
    /// It ran and failed: the code under test, as far as pipekit-ci can tell.
    Failed,
    /// It could not be run or followed (no start, lost executor, unpacked artifacts): a
    /// problem of the CI rather than of the commit.
    Errored,
    /// It was stopped, or the run was, before it ended.
    Cancelled,
    /// It never started: a condition it waited on can no longer hold.
    Skipped,
}

impl JobStatus {
    pub const ALL: [JobStatus; 7] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Passed,
        JobStatus::Failed,
        JobStatus::Errored,
        JobStatus::Cancelled,
        JobStatus::Skipped,
    ];

    /// The status of a job that ended with `outcome`.
    pub fn of_outcome(outcome: &Outcome) -> JobStatus {
        match outcome {
            // A job reused from an earlier run passed there: its commit passes it.
            Outcome::Passed | Outcome::Reused(_) => JobStatus::Passed,
            Outcome::Failed(
                FailReason::StartFailed { .. }
                | FailReason::Executor { .. }
                | FailReason::Artifacts { .. },
            ) => JobStatus::Errored,
            Outcome::Failed(_) => JobStatus::Failed,
            Outcome::Skipped(_) => JobStatus::Skipped,
            Outcome::Cancelled(_) => JobStatus::Cancelled,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Passed => "passed",
            JobStatus::Failed => "failed",
            JobStatus::Errored => "errored",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Skipped => "skipped",
        }
    }

    pub fn parse(word: &str) -> Option<JobStatus> {
        JobStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == word)
    }

    /// Whether nothing comes after it.
    pub fn is_final(self) -> bool {
        !matches!(self, JobStatus::Pending | JobStatus::Running)
    }

    /// The `state` `forge` takes for it. GitHub and Gitea have no "running" (a running
    /// job is `pending`, its description says running) and no "cancelled": a stopped or
    /// never started job is `error`, which blocks a merge like `failure` does but says
    /// the commit was not found wanting. Gitea's `warning` fits a skipped job best; GitLab
    /// has `running` and `canceled`, and a skipped job is `canceled` there.
    pub fn forge_state(self, forge: ForgeKind) -> &'static str {
        match (forge, self) {
            (_, JobStatus::Passed) => "success",
            (ForgeKind::GitHub | ForgeKind::Gitea, JobStatus::Pending | JobStatus::Running) => {
                "pending"
            }
            (ForgeKind::GitHub | ForgeKind::Gitea, JobStatus::Failed) => "failure",
            (ForgeKind::GitHub | ForgeKind::Gitea, JobStatus::Errored | JobStatus::Cancelled) => {
                "error"
            }
            (ForgeKind::GitHub, JobStatus::Skipped) => "error",
            (ForgeKind::Gitea, JobStatus::Skipped) => "warning",
            (ForgeKind::GitLab, JobStatus::Pending) => "pending",
            (ForgeKind::GitLab, JobStatus::Running) => "running",
            (ForgeKind::GitLab, JobStatus::Failed | JobStatus::Errored) => "failed",
            (ForgeKind::GitLab, JobStatus::Cancelled | JobStatus::Skipped) => "canceled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pipekit_runner::scheduler::{CancelReason, SkipReason};

    #[test]
    fn each_state_has_each_forges_nearest_word() {
        use JobStatus::*;
        let table = [
            // (status, GitHub, Gitea, GitLab)
            (Pending, "pending", "pending", "pending"),
            (Running, "pending", "pending", "running"),
            (Passed, "success", "success", "success"),
            (Failed, "failure", "failure", "failed"),
            (Errored, "error", "error", "failed"),
            (Cancelled, "error", "error", "canceled"),
            (Skipped, "error", "warning", "canceled"),
        ];
        for (status, github, gitea, gitlab) in table {
            let words = [ForgeKind::GitHub, ForgeKind::Gitea, ForgeKind::GitLab]
                .map(|forge| status.forge_state(forge));
            assert_eq!(words, [github, gitea, gitlab], "{status:?}");
        }
        assert_eq!(table.len(), JobStatus::ALL.len());
    }

    #[test]
    fn every_state_is_stored_and_read_back_by_its_word() {
        for status in JobStatus::ALL {
            assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(JobStatus::parse("success"), None);
    }

    #[test]
    fn a_job_that_could_not_start_is_errored_one_that_exited_badly_failed() {
        let cases = [
            (Outcome::Passed, JobStatus::Passed),
            (
                Outcome::Failed(FailReason::ExitCode { code: 3 }),
                JobStatus::Failed,
            ),
            (
                Outcome::Failed(FailReason::StartFailed {
                    message: "no such image".into(),
                }),
                JobStatus::Errored,
            ),
            (
                Outcome::Cancelled(CancelReason::Interrupt),
                JobStatus::Cancelled,
            ),
            (
                Outcome::Skipped(SkipReason::NotStarted {
                    cancel: CancelReason::Interrupt,
                }),
                JobStatus::Skipped,
            ),
        ];
        for (outcome, expected) in cases {
            assert_eq!(JobStatus::of_outcome(&outcome), expected, "{outcome:?}");
        }
    }
}
