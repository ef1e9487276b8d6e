//! Whether a `depends_on` condition holds, may still hold, or never will.

use super::event::Outcome;
use super::job_progress::{JobProgress, Phase};
use super::skip_reason::NeverReason;
use pipekit_schema::{Awaited, Condition, Pipeline};

/// The state of one condition at this moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionStatus {
    /// It holds now.
    Holds,
    /// It may still hold.
    Pending,
    /// It can no longer hold, and why (told of the job the condition names).
    Never(NeverReason),
}

/// Evaluates `condition` against what is known of the job it names.
pub fn evaluate(
    pipeline: &Pipeline,
    jobs: &[JobProgress],
    condition: Condition,
) -> ConditionStatus {
    let target = &jobs[condition.job.0];
    let never_started = || never_started_reason(target);
    match condition.awaited {
        Awaited::Started => {
            if target.started {
                ConditionStatus::Holds
            } else if target.is_finished() {
                ConditionStatus::Never(never_started())
            } else {
                ConditionStatus::Pending
            }
        }
        Awaited::Exited => match target.exit {
            Some(_) => ConditionStatus::Holds,
            None if target.is_finished() => ConditionStatus::Never(never_started()),
            None => ConditionStatus::Pending,
        },
        Awaited::ExitCode(code) => match (target.exit, &target.failure) {
            // A job that failed on its way out (artifacts not packed) exited 0 but must not
            // release jobs that count on what it produced.
            (Some(_), Some(failure)) => ConditionStatus::Never(NeverReason::DependencyFailed {
                reason: failure.clone(),
            }),
            (Some(super::JobExit::Code(actual)), None) if actual == code => ConditionStatus::Holds,
            (Some(exit), None) => ConditionStatus::Never(NeverReason::Exited { exit }),
            (None, _) if target.is_finished() => ConditionStatus::Never(never_started()),
            (None, _) => ConditionStatus::Pending,
        },
        Awaited::Signal(signal) => {
            if target.fired[signal.0] {
                ConditionStatus::Holds
            } else if let Some(lost) = &target.signal_lost[signal.0] {
                ConditionStatus::Never(lost.clone())
            } else if let Some(exit) = target.exit {
                let signal = pipeline.job(condition.job).signal(signal).name.clone();
                ConditionStatus::Never(NeverReason::ExitedBeforeSignal { exit, signal })
            } else if target.is_finished() {
                ConditionStatus::Never(never_started())
            } else {
                ConditionStatus::Pending
            }
        }
        Awaited::Healthy => {
            if target.healthy {
                ConditionStatus::Holds
            } else if let Some(failure) = &target.failure {
                ConditionStatus::Never(NeverReason::DependencyFailed {
                    reason: failure.clone(),
                })
            } else if let Some(exit) = target.exit {
                ConditionStatus::Never(NeverReason::ExitedBeforeHealthy { exit })
            } else if target.is_finished() {
                ConditionStatus::Never(never_started())
            } else {
                ConditionStatus::Pending
            }
        }
    }
}

fn never_started_reason(target: &JobProgress) -> NeverReason {
    match &target.phase {
        Phase::Finished(Outcome::Skipped(_)) => NeverReason::Skipped,
        Phase::Finished(Outcome::Cancelled(_)) => NeverReason::Cancelled,
        Phase::Finished(Outcome::Failed(reason)) => NeverReason::DependencyFailed {
            reason: reason.clone(),
        },
        _ => NeverReason::NeverStarted,
    }
}
