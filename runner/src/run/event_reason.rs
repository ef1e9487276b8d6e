//! Why a job ended the way it did, as events carry it: a kind a UI can act on, the jobs,
//! conditions and signals it names, and the sentence the console shows.

use crate::scheduler::Outcome;
use serde::{Deserialize, Serialize};

/// The structured reason of a `job_finished` (spec 7):
/// `{"kind": "condition_never", "job": "db", "condition": "db.ready", "text": "…"}`.
///
/// Until the dispatcher's outcomes carry typed reasons, [`EventReason::from_outcome`]
/// derives the kind and the names from the dispatcher's sentences. A typed reason that
/// implements `Serialize` as `{"kind": …, <its fields>}` replaces this struct's `kind`,
/// `job`, `condition` and `signal` (flattened beside `text`); `from_outcome` is the one
/// place to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventReason {
    pub kind: ReasonKind,
    /// The job the reason is about, when it is another one (the dependency that failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    /// The condition that can no longer hold (`db.ready`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The job's own signal the reason is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// The reason as the console and `run.json` say it.
    pub text: String,
}

/// What kind of reason it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// Skipped: a condition it depends on can no longer hold.
    ConditionNever,
    /// Skipped: the run was being stopped before the job could start.
    NotStarted,
    /// Failed: it exited with a code other than 0.
    ExitCode,
    /// Failed: a signal killed it.
    Killed,
    /// Failed: its own `timeout` elapsed.
    Timeout,
    /// Failed: one of its signals did not fire within its timeout.
    SignalTimeout,
    /// Failed: it exited 0 before one of its signals fired.
    SignalNeverFired,
    /// Failed: its artifacts could not be packed or handed on.
    Artifacts,
    /// Cancelled: the run was interrupted.
    Interrupted,
    /// Cancelled: `--fail-fast` after another job failed.
    FailFast,
    /// Cancelled: the container engine was lost.
    EngineLost,
    /// Passed, and left running by `--keep-running`.
    LeftRunning,
    /// A failure of another kind (start failed, healthcheck, executor error).
    Failed,
    /// A cancellation of another kind.
    Cancelled,
    /// A kind written by a later pipekit-ci.
    #[serde(other)]
    Other,
}

impl EventReason {
    /// A reason of `kind` with nothing but its text.
    pub fn new(kind: ReasonKind, text: impl Into<String>) -> Self {
        Self {
            kind,
            job: None,
            condition: None,
            signal: None,
            text: text.into(),
        }
    }

    /// The reason of a job's outcome (`None` for a pass).
    pub fn from_outcome(outcome: &Outcome) -> Option<Self> {
        let reason = match outcome {
            Outcome::Passed => return None,
            Outcome::Skipped(text) => skipped(text),
            Outcome::Failed(text) => failed(text),
            Outcome::Cancelled(text) => cancelled(text),
        };
        Some(reason)
    }
}

/// "`db.ready` can no longer hold: …" names the condition; "not started: …" the stop.
fn skipped(text: &str) -> EventReason {
    if let Some(condition) = quoted_prefix(text, "` can no longer hold") {
        let job = condition
            .rsplit_once('.')
            .map(|(job, _)| job.to_owned())
            .filter(|job| !job.is_empty());
        return EventReason {
            job,
            condition: Some(condition.to_owned()),
            ..EventReason::new(ReasonKind::ConditionNever, text)
        };
    }
    let kind = if text.starts_with("not started:") {
        ReasonKind::NotStarted
    } else {
        ReasonKind::ConditionNever
    };
    EventReason::new(kind, text)
}

fn failed(text: &str) -> EventReason {
    let with_signal = |kind, signal: &str| EventReason {
        signal: Some(signal.to_owned()),
        ..EventReason::new(kind, text)
    };
    if let Some(rest) = text.strip_prefix("signal `")
        && let Some((signal, _)) = rest.split_once("` timed out")
    {
        return with_signal(ReasonKind::SignalTimeout, signal);
    }
    if let Some(rest) = text.strip_prefix("exited 0 before signal `")
        && let Some((signal, _)) = rest.split_once('`')
    {
        return with_signal(ReasonKind::SignalNeverFired, signal);
    }
    let kind = [
        ("exited with code", ReasonKind::ExitCode),
        ("was killed by signal", ReasonKind::Killed),
        ("timed out after", ReasonKind::Timeout),
        ("artifacts could not", ReasonKind::Artifacts),
    ]
    .into_iter()
    .find(|(prefix, _)| text.starts_with(prefix))
    .map_or(ReasonKind::Failed, |(_, kind)| kind);
    EventReason::new(kind, text)
}

fn cancelled(text: &str) -> EventReason {
    if let Some(rest) = text.strip_prefix("--fail-fast after `")
        && let Some((job, _)) = rest.split_once('`')
    {
        return EventReason {
            job: Some(job.to_owned()),
            ..EventReason::new(ReasonKind::FailFast, text)
        };
    }
    let kind = if text == "interrupted" {
        ReasonKind::Interrupted
    } else if text.starts_with("the container engine") && text.ends_with("was lost") {
        ReasonKind::EngineLost
    } else {
        ReasonKind::Cancelled
    };
    EventReason::new(kind, text)
}

/// The text between a leading backtick and `rest`: "`x` can…" gives `x`.
fn quoted_prefix<'t>(text: &'t str, rest: &str) -> Option<&'t str> {
    text.strip_prefix('`')?
        .split_once(rest)
        .map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_sorted_by_their_sentences() {
        let cases = [
            (
                Outcome::Skipped("`db.ready` can no longer hold: `db` exited".into()),
                ReasonKind::ConditionNever,
                Some("db"),
                Some("db.ready"),
                None,
            ),
            (
                Outcome::Skipped("not started: interrupted".into()),
                ReasonKind::NotStarted,
                None,
                None,
                None,
            ),
            (
                Outcome::Failed("signal `ready` timed out after 3s".into()),
                ReasonKind::SignalTimeout,
                None,
                None,
                Some("ready"),
            ),
            (
                Outcome::Failed("exited 0 before signal `up` fired".into()),
                ReasonKind::SignalNeverFired,
                None,
                None,
                Some("up"),
            ),
            (
                Outcome::Failed("exited with code 2".into()),
                ReasonKind::ExitCode,
                None,
                None,
                None,
            ),
            (
                Outcome::Failed("timed out after 2s".into()),
                ReasonKind::Timeout,
                None,
                None,
                None,
            ),
            (
                Outcome::Failed("no `command` to run on the host".into()),
                ReasonKind::Failed,
                None,
                None,
                None,
            ),
            (
                Outcome::Cancelled("--fail-fast after `lint` failed".into()),
                ReasonKind::FailFast,
                Some("lint"),
                None,
                None,
            ),
            (
                Outcome::Cancelled("interrupted".into()),
                ReasonKind::Interrupted,
                None,
                None,
                None,
            ),
            (
                Outcome::Cancelled("the container engine at unix:///x was lost".into()),
                ReasonKind::EngineLost,
                None,
                None,
                None,
            ),
        ];
        for (outcome, kind, job, condition, signal) in cases {
            let reason = EventReason::from_outcome(&outcome).expect("a reason");
            assert_eq!(reason.kind, kind, "{outcome:?}");
            assert_eq!(reason.job.as_deref(), job, "{outcome:?}");
            assert_eq!(reason.condition.as_deref(), condition, "{outcome:?}");
            assert_eq!(reason.signal.as_deref(), signal, "{outcome:?}");
            assert_eq!(Some(reason.text.as_str()), outcome.reason());
        }
        assert_eq!(EventReason::from_outcome(&Outcome::Passed), None);
    }

    #[test]
    fn reasons_serialise_as_the_spec_shows() -> Result<(), serde_json::Error> {
        let reason = EventReason::from_outcome(&Outcome::Skipped(
            "`db.ready` can no longer hold: `db` exited".into(),
        ));
        let json = serde_json::to_value(&reason)?;
        assert_eq!(
            json,
            serde_json::json!({
                "kind": "condition_never",
                "job": "db",
                "condition": "db.ready",
                "text": "`db.ready` can no longer hold: `db` exited",
            })
        );
        let later: EventReason =
            serde_json::from_str(r#"{"kind": "quota_exceeded", "text": "over quota"}"#)?;
        assert_eq!(later.kind, ReasonKind::Other);
        Ok(())
    }
}
