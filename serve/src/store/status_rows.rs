//! The commit status outbox (`status_outbox`): statuses written as runs go, taken oldest
//! first by the deliverer, each ending delivered, superseded by a newer one of its job, or
//! refused by the forge.

use super::run_store::RunStore;
use super::store_error::StoreError;
use crate::status::{JobStatus, StatusMessage};
use pipekit_runner::storage::rfc3339;
use rusqlite::{Row, params};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Finished rows kept, for the record; older ones are forgotten as statuses go out.
const KEPT_FINISHED: i64 = 10_000;

/// How a row of the outbox ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxOutcome {
    Delivered,
    /// A newer state of the same job came before this one went out.
    Superseded,
    /// The forge said no in a way that sending it again would not change.
    Refused,
}

impl OutboxOutcome {
    fn as_str(self) -> &'static str {
        match self {
            OutboxOutcome::Delivered => "delivered",
            OutboxOutcome::Superseded => "superseded",
            OutboxOutcome::Refused => "refused",
        }
    }

    fn parse(word: &str) -> Option<OutboxOutcome> {
        [
            OutboxOutcome::Delivered,
            OutboxOutcome::Superseded,
            OutboxOutcome::Refused,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == word)
    }
}

/// A status in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    pub id: i64,
    pub run_id: i64,
    /// The run's repository, whose forge the status goes to.
    pub repository: String,
    pub job: String,
    pub message: StatusMessage,
    /// Failed attempts so far.
    pub attempts: u32,
    /// `None` while it is still to be sent.
    pub outcome: Option<OutboxOutcome>,
    pub last_error: Option<String>,
}

const OUTBOX_COLUMNS: &str = "SELECT o.id, o.run_id, p.name, o.job, o.commit_sha, o.context, \
    o.state, o.description, o.target_url, o.attempts, o.outcome, o.last_error \
    FROM status_outbox o JOIN runs r ON r.id = o.run_id \
    JOIN repositories p ON p.id = r.repository_id";

impl RunStore {
    /// Puts `message`, the new state of `job` of run `run_id`, in the outbox, due at once;
    /// what the job's earlier rows still had to say is superseded by it.
    pub fn queue_status(
        &mut self,
        run_id: i64,
        job: &str,
        message: &StatusMessage,
        at: SystemTime,
    ) -> Result<i64, StoreError> {
        let transaction = self.write()?;
        transaction.execute(
            "UPDATE status_outbox SET outcome = ?3, finished_at = ?4 \
             WHERE run_id = ?1 AND job = ?2 AND outcome IS NULL",
            params![run_id, job, OutboxOutcome::Superseded.as_str(), rfc3339(at)],
        )?;
        transaction.execute(
            "INSERT INTO status_outbox (run_id, job, commit_sha, context, state, description, \
             target_url, created_at, next_attempt_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                run_id,
                job,
                message.commit,
                message.context,
                message.status.as_str(),
                message.description,
                message.target_url,
                rfc3339(at),
                millis(at),
            ],
        )?;
        let id = transaction.last_insert_rowid();
        transaction.commit()?;
        Ok(id)
    }

    /// Up to `limit` rows still to send whose time has come by `now`, oldest first.
    pub fn due_statuses(
        &self,
        now: SystemTime,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "{OUTBOX_COLUMNS} WHERE o.outcome IS NULL AND o.next_attempt_ms <= ?1 \
             ORDER BY o.id LIMIT ?2"
        ))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![millis(now), limit], outbox_row)?;
        rows.map(|row| row?).collect()
    }

    /// When the next row still to send is due, if there is one.
    pub fn next_status_due(&self) -> Result<Option<SystemTime>, StoreError> {
        let due: Option<i64> = self.conn.query_row(
            "SELECT MIN(next_attempt_ms) FROM status_outbox WHERE outcome IS NULL",
            [],
            |row| row.get(0),
        )?;
        Ok(due.map(|ms| UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
    }

    /// Every row of run `run_id`, oldest first.
    pub fn run_statuses(&self, run_id: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let mut statement = self.conn.prepare(&format!(
            "{OUTBOX_COLUMNS} WHERE o.run_id = ?1 ORDER BY o.id"
        ))?;
        let rows = statement.query_map(params![run_id], outbox_row)?;
        rows.map(|row| row?).collect()
    }

    /// Row `id` reached its forge (superseded or not: it was sent).
    pub fn status_delivered(&mut self, id: i64, at: SystemTime) -> Result<(), StoreError> {
        self.finish_status(id, OutboxOutcome::Delivered, None, at)
    }

    /// The forge refused row `id` for good, saying `why`.
    pub fn status_refused(&mut self, id: i64, why: &str, at: SystemTime) -> Result<(), StoreError> {
        self.finish_status(id, OutboxOutcome::Refused, Some(why), at)
    }

    /// Row `id`'s attempt failed for `why`; it has failed `attempts` times now and is to
    /// be sent again at `retry_at`, unless a newer state superseded it meanwhile.
    pub fn status_failed(
        &mut self,
        id: i64,
        attempts: u32,
        why: &str,
        retry_at: SystemTime,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE status_outbox SET attempts = ?2, last_error = ?3, next_attempt_ms = ?4 \
             WHERE id = ?1",
            params![id, attempts, why, millis(retry_at)],
        )?;
        Ok(())
    }

    fn finish_status(
        &mut self,
        id: i64,
        outcome: OutboxOutcome,
        why: Option<&str>,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        let transaction = self.write()?;
        transaction.execute(
            "UPDATE status_outbox SET outcome = ?2, finished_at = ?3, \
             last_error = COALESCE(?4, last_error) WHERE id = ?1",
            params![id, outcome.as_str(), rfc3339(at), why],
        )?;
        transaction.execute(
            "DELETE FROM status_outbox WHERE outcome IS NOT NULL AND id <= \
             (SELECT id FROM status_outbox WHERE outcome IS NOT NULL \
              ORDER BY id DESC LIMIT 1 OFFSET ?1)",
            params![KEPT_FINISHED],
        )?;
        transaction.commit()?;
        Ok(())
    }
}

fn outbox_row(row: &Row<'_>) -> rusqlite::Result<Result<OutboxRow, StoreError>> {
    let state: String = row.get(6)?;
    let outcome: Option<String> = row.get(10)?;
    let Some(status) = JobStatus::parse(&state) else {
        return Ok(Err(StoreError::Corrupt {
            what: "job status",
            value: state,
        }));
    };
    let outcome = match outcome {
        None => None,
        Some(word) => match OutboxOutcome::parse(&word) {
            Some(outcome) => Some(outcome),
            None => {
                return Ok(Err(StoreError::Corrupt {
                    what: "status outcome",
                    value: word,
                }));
            }
        },
    };
    Ok(Ok(OutboxRow {
        id: row.get(0)?,
        run_id: row.get(1)?,
        repository: row.get(2)?,
        job: row.get(3)?,
        message: StatusMessage {
            commit: row.get(4)?,
            context: row.get(5)?,
            status,
            description: row.get(7)?,
            target_url: row.get(8)?,
        },
        attempts: row.get(9)?,
        outcome,
        last_error: row.get(11)?,
    }))
}

/// Milliseconds since the Unix epoch (0 before it).
fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewRun, Trigger};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_342_400 + seconds)
    }

    fn message(job: &str, status: JobStatus) -> StatusMessage {
        StatusMessage {
            commit: "c0ffee".to_owned(),
            context: format!("pipekit/ci/{job}"),
            status,
            description: status.as_str().to_owned(),
            target_url: format!("http://ci/runs/1/jobs/{job}"),
        }
    }

    fn store_with_a_run(path: &std::path::Path) -> Result<(RunStore, i64), StoreError> {
        let mut store = RunStore::open(path)?;
        store.add_repository("app", "/srv/app")?;
        let run = NewRun {
            repository: "app".to_owned(),
            pipeline: "pipekit.yml".to_owned(),
            branch: None,
            git_ref: None,
            commit: "c0ffee".to_owned(),
            message: String::new(),
            author: String::new(),
            trigger: Trigger::Manual,
            attempt_of: None,
            rerun: None,
        };
        let id = store
            .enqueue(&run, at(0))?
            .ok_or(StoreError::UnknownRun(0))?;
        Ok((store, id))
    }

    #[test]
    fn a_newer_state_of_a_job_supersedes_the_one_not_sent_yet() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (mut store, run) = store_with_a_run(&dir.path().join("pipekit.db"))?;
        let a_pending = store.queue_status(run, "a", &message("a", JobStatus::Pending), at(1))?;
        let b_pending = store.queue_status(run, "b", &message("b", JobStatus::Pending), at(1))?;
        let a_running = store.queue_status(run, "a", &message("a", JobStatus::Running), at(2))?;
        let due: Vec<_> = store
            .due_statuses(at(2), 10)?
            .iter()
            .map(|row| row.id)
            .collect();
        assert_eq!(
            due,
            [b_pending, a_running],
            "oldest first, a's pending left out"
        );
        let rows = store.run_statuses(run)?;
        assert_eq!(rows[0].id, a_pending);
        assert_eq!(rows[0].outcome, Some(OutboxOutcome::Superseded));
        assert_eq!(rows[2].repository, "app");
        assert_eq!(rows[2].message, message("a", JobStatus::Running));
        Ok(())
    }

    #[test]
    fn a_failed_attempt_waits_its_turn_and_survives_a_restart() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("pipekit.db");
        let (mut store, run) = store_with_a_run(&path)?;
        let id = store.queue_status(run, "a", &message("a", JobStatus::Passed), at(1))?;
        assert_eq!(store.next_status_due()?, Some(at(1)));
        store.status_failed(id, 1, "the forge answered 502", at(3))?;
        assert!(
            store.due_statuses(at(2), 10)?.is_empty(),
            "not before its time"
        );
        drop(store);
        let mut store = RunStore::open(&path)?;
        assert_eq!(store.next_status_due()?, Some(at(3)));
        let due = store.due_statuses(at(3), 10)?;
        assert_eq!((due.len(), due[0].attempts), (1, 1));
        assert_eq!(due[0].last_error.as_deref(), Some("the forge answered 502"));
        store.status_delivered(id, at(4))?;
        assert!(store.due_statuses(at(9), 10)?.is_empty());
        assert_eq!(store.next_status_due()?, None);
        assert_eq!(
            store.run_statuses(run)?[0].outcome,
            Some(OutboxOutcome::Delivered)
        );
        Ok(())
    }

    #[test]
    fn a_refused_status_is_never_sent_again_and_says_why() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (mut store, run) = store_with_a_run(&dir.path().join("pipekit.db"))?;
        let id = store.queue_status(run, "a", &message("a", JobStatus::Failed), at(1))?;
        store.status_refused(id, "the forge answered 401", at(2))?;
        assert!(store.due_statuses(at(9), 10)?.is_empty());
        let row = &store.run_statuses(run)?[0];
        assert_eq!(row.outcome, Some(OutboxOutcome::Refused));
        assert_eq!(row.last_error.as_deref(), Some("the forge answered 401"));
        Ok(())
    }
}
