//! A run as the API shows it (spec 8's fields).

use crate::store::{RerunJobs, RunRow};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub id: i64,
    pub number: i64,
    pub repository: String,
    pub pipeline: String,
    pub branch: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub commit: String,
    pub message: String,
    pub author: String,
    pub trigger: &'static str,
    pub status: &'static str,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// From its start to its end, or to now for a running run; `None` before it starts.
    pub duration_seconds: Option<f64>,
    /// The run folder's id, once it started.
    pub run_folder: Option<String>,
    pub attempt_of: Option<i64>,
    /// Why it ended errored or invalid, when no report of its own says it.
    pub problem: Option<String>,
    /// A re-run of only some jobs: which, and the run folder the others are reused from.
    pub rerun: Option<RerunView>,
}

/// `{"jobs": ["test"], "reused_from": "<run folder>"}` or `{"failed": true, …}`: the
/// request's own words.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RerunView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failed: bool,
    pub reused_from: String,
}

impl From<RunRow> for RunView {
    fn from(row: RunRow) -> Self {
        let duration_seconds = row.started_at.as_deref().and_then(|started| {
            let end = row
                .finished_at
                .clone()
                .unwrap_or_else(|| pipekit_runner::storage::rfc3339(std::time::SystemTime::now()));
            let seconds = seconds_of(&end)? - seconds_of(started)?;
            // The times are in milliseconds: so is the difference.
            Some((seconds.max(0.0) * 1000.0).round() / 1000.0)
        });
        RunView {
            id: row.id,
            number: row.number,
            repository: row.repository,
            pipeline: row.pipeline,
            branch: row.branch,
            git_ref: row.git_ref,
            commit: row.commit,
            message: row.message,
            author: row.author,
            trigger: row.trigger.as_str(),
            status: row.state.as_str(),
            queued_at: row.queued_at,
            started_at: row.started_at,
            finished_at: row.finished_at,
            duration_seconds,
            run_folder: row.run_folder,
            attempt_of: row.attempt_of,
            problem: row.problem,
            rerun: row.rerun.map(|rerun| {
                let (jobs, failed) = match rerun.jobs {
                    RerunJobs::Named(jobs) => (Some(jobs), false),
                    RerunJobs::Failed => (None, true),
                };
                RerunView {
                    jobs,
                    failed,
                    reused_from: rerun.reuse_folder,
                }
            }),
        }
    }
}

/// Seconds since the epoch of the store's own `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, as run.json
/// and events.jsonl write times); `None` for any other text.
pub(super) fn seconds_of(time: &str) -> Option<f64> {
    pipekit_runner::run::Timestamp::parse(time).map(|at| at.millis_since_epoch() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::seconds_of;

    #[test]
    fn store_times_read_back_as_seconds_since_the_epoch() {
        assert_eq!(seconds_of("1970-01-01T00:00:00.000Z"), Some(0.0));
        assert_eq!(
            seconds_of("2026-12-04T00:00:01.500Z"),
            Some(1_796_342_401.5)
        );
        assert_eq!(
            seconds_of("2024-02-29T12:00:00.000Z"),
            Some(1_709_208_000.0)
        );
        assert_eq!(seconds_of("yesterday"), None);
    }
}
