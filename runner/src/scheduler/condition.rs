//! Whether a `depends_on` condition holds, may still hold, or never will.

use super::event::Outcome;
use super::job_progress::{JobProgress, Phase};
use pipekit_schema::{Awaited, Condition, Pipeline};

/// The state of one condition at this moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionStatus {
    Holds,
    Pending,
    /// Can no longer hold; the text says why.
    Never(String),
}

/// Evaluates `condition` against what is known of the job it names.
pub fn evaluate(
    pipeline: &Pipeline,
    jobs: &[JobProgress],
    condition: Condition,
) -> ConditionStatus {
    let target = &jobs[condition.job.0];
    let name = &pipeline.job(condition.job).name;
    let never_started = || never_started_reason(name, target);
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
        Awaited::ExitCode(code) => match target.exit {
            // A job that failed on its way out (artifacts not packed) exited 0 but must not
            // release jobs that count on what it produced.
            Some(_) if target.failure.is_some() => ConditionStatus::Never(format!(
                "`{name}` failed: {}",
                target.failure.as_deref().unwrap_or_default()
            )),
            Some(super::JobExit::Code(actual)) if actual == code => ConditionStatus::Holds,
            Some(exit) => ConditionStatus::Never(format!("`{name}` {exit}")),
            None if target.is_finished() => ConditionStatus::Never(never_started()),
            None => ConditionStatus::Pending,
        },
        Awaited::Signal(signal) => {
            let signal_name = &pipeline.job(condition.job).signal(signal).name;
            if target.fired[signal.0] {
                ConditionStatus::Holds
            } else if let Some(lost) = &target.signal_lost[signal.0] {
                ConditionStatus::Never(lost.clone())
            } else if let Some(exit) = target.exit {
                ConditionStatus::Never(format!(
                    "`{name}` {exit} before signal `{signal_name}` fired"
                ))
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
                ConditionStatus::Never(format!("`{name}` failed: {failure}"))
            } else if let Some(exit) = target.exit {
                ConditionStatus::Never(format!("`{name}` {exit} before it was healthy"))
            } else if target.is_finished() {
                ConditionStatus::Never(never_started())
            } else {
                ConditionStatus::Pending
            }
        }
    }
}

fn never_started_reason(name: &str, target: &JobProgress) -> String {
    match &target.phase {
        Phase::Finished(Outcome::Skipped(_)) => format!("`{name}` was skipped"),
        Phase::Finished(Outcome::Cancelled(_)) => format!("`{name}` was cancelled"),
        Phase::Finished(Outcome::Failed(reason)) => format!("`{name}` failed: {reason}"),
        _ => format!("`{name}` never started"),
    }
}
