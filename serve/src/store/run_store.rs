//! The runs and the queue, on one SQLite connection.

use super::migrations::migrate;
use super::partial_rerun::{PartialRerun, RerunJobs};
use super::run_row::{Cancelled, NewRun, Recovered, RunFilter, RunRow, RunState, Trigger};
use super::store_error::StoreError;
use pipekit_runner::storage::rfc3339;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How long a write waits for another connection's (a reader's checkpoint, a second
/// server started by mistake) before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Every column of a run, its repository by name, in the order [`run_row`] reads them.
const RUN_COLUMNS: &str = "SELECT r.id, r.number, p.name, r.pipeline, r.branch, r.git_ref, \
    r.commit_sha, r.message, r.author, r.trigger, r.state, r.run_folder, r.attempt_of, \
    r.cancel_requested, r.queued_at, r.started_at, r.finished_at, r.problem, r.rerun_jobs, \
    r.reuse_folder \
    FROM runs r JOIN repositories p ON p.id = r.repository_id";

/// The service's database. Every change is one transaction, taken for writing before it
/// reads (`BEGIN IMMEDIATE`), so what it decides on cannot change under it.
pub struct RunStore {
    pub(super) conn: Connection,
}

impl RunStore {
    /// Opens the database at `path`, creating it and bringing its schema up to date. In
    /// WAL mode with `synchronous = NORMAL`: a crash of the server loses nothing committed
    /// (a power cut at most the last transactions), and readers never wait for the writer.
    pub fn open(path: &Path) -> Result<RunStore, StoreError> {
        let opened = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(opened)?;
        let fresh: i64 = conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(opened)?;
        if fresh == 0 {
            // Only possible before the first table: retention can then give pages back
            // (`PRAGMA incremental_vacuum`) instead of the file staying at its largest.
            conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL")
                .map_err(opened)?;
        }
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(opened)?;
        if !mode.eq_ignore_ascii_case("wal") {
            // A file system without shared memory (some network mounts) keeps the rollback
            // journal: slower for readers, as safe.
            conn.execute_batch("PRAGMA synchronous = FULL")
                .map_err(opened)?;
        } else {
            conn.execute_batch("PRAGMA synchronous = NORMAL")
                .map_err(opened)?;
        }
        conn.execute_batch("PRAGMA foreign_keys = ON")
            .map_err(opened)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(opened)?;
        migrate(&mut conn, path)?;
        Ok(RunStore { conn })
    }

    /// Records a repository, or its new URL.
    pub fn add_repository(&mut self, name: &str, url: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO repositories (name, url) VALUES (?1, ?2) \
             ON CONFLICT (name) DO UPDATE SET url = excluded.url",
            params![name, url],
        )?;
        Ok(())
    }

    /// Every repository's name and URL, by name.
    pub fn repositories(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT name, url FROM repositories ORDER BY name")?;
        let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Queues `run`, numbered after its repository's last. `None` for a push whose commit
    /// and pipeline were queued before: a hook, a webhook and the poller may all see it.
    pub fn enqueue(&mut self, run: &NewRun, at: SystemTime) -> Result<Option<i64>, StoreError> {
        let transaction = self.write()?;
        let repository = repository_id(&transaction, &run.repository)?;
        if run.trigger.is_push() {
            let seen: Option<i64> = transaction
                .query_row(
                    "SELECT id FROM runs \
                     WHERE repository_id = ?1 AND commit_sha = ?2 AND pipeline = ?3 LIMIT 1",
                    params![repository, run.commit, run.pipeline],
                    |row| row.get(0),
                )
                .optional()?;
            if seen.is_some() {
                return Ok(None);
            }
        }
        let id = insert_queued(&transaction, repository, run, at)?;
        transaction.commit()?;
        Ok(Some(id))
    }

    /// Starts the oldest waiting run if fewer than `max_running` are running: it is
    /// `running` from now. `None` when nothing waits or every slot is taken.
    pub fn start_next(
        &mut self,
        max_running: usize,
        at: SystemTime,
    ) -> Result<Option<RunRow>, StoreError> {
        let transaction = self.write()?;
        let running: i64 = transaction.query_row(
            "SELECT COUNT(*) FROM runs WHERE state = 'running'",
            [],
            |row| row.get(0),
        )?;
        if usize::try_from(running).unwrap_or(usize::MAX) >= max_running {
            return Ok(None);
        }
        let started: Option<i64> = transaction
            .query_row(
                "UPDATE runs SET state = 'running', started_at = ?1 WHERE id = \
                 (SELECT id FROM runs WHERE state = 'queued' ORDER BY id LIMIT 1) RETURNING id",
                params![rfc3339(at)],
                |row| row.get(0),
            )
            .optional()?;
        let row = match started {
            Some(id) => Some(find_run(&transaction, id)?.ok_or(StoreError::UnknownRun(id))?),
            None => None,
        };
        transaction.commit()?;
        Ok(row)
    }

    /// Notes the run folder of a running run, as soon as the session made it.
    pub fn set_run_folder(&mut self, id: i64, run_folder: &str) -> Result<(), StoreError> {
        let transaction = self.write()?;
        expect_state(&transaction, id, RunState::Running, "running")?;
        transaction.execute(
            "UPDATE runs SET run_folder = ?2 WHERE id = ?1",
            params![id, run_folder],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// Ends a running run as `state`, or as `cancelled` when it was asked to stop and
    /// ended `interrupted` (its jobs were stopped as on Ctrl-C). `problem`: why it ended
    /// errored or invalid, when no report says it. The state recorded.
    pub fn finish(
        &mut self,
        id: i64,
        state: RunState,
        problem: Option<&str>,
        at: SystemTime,
    ) -> Result<RunState, StoreError> {
        let transaction = self.write()?;
        let run = expect_state(&transaction, id, RunState::Running, "running")?;
        let recorded = match state {
            RunState::Interrupted if run.cancel_requested => RunState::Cancelled,
            state => state,
        };
        transaction.execute(
            // A problem noted before the end (what superseded it) stays unless the end
            // has one of its own.
            "UPDATE runs SET state = ?2, finished_at = ?3, problem = COALESCE(?4, problem) \
             WHERE id = ?1",
            params![id, recorded.as_str(), rfc3339(at), problem],
        )?;
        transaction.commit()?;
        Ok(recorded)
    }

    /// Cancels a run: a waiting one at once, a running one once its jobs are stopped (the
    /// caller stops them; [`RunStore::finish`] records the end).
    pub fn cancel(&mut self, id: i64, at: SystemTime) -> Result<Cancelled, StoreError> {
        let transaction = self.write()?;
        let run = find_run(&transaction, id)?.ok_or(StoreError::UnknownRun(id))?;
        let outcome = match run.state {
            RunState::Queued => {
                transaction.execute(
                    "UPDATE runs SET state = 'cancelled', finished_at = ?2 WHERE id = ?1",
                    params![id, rfc3339(at)],
                )?;
                Cancelled::Dequeued
            }
            RunState::Running => {
                transaction.execute(
                    "UPDATE runs SET cancel_requested = 1 WHERE id = ?1",
                    params![id],
                )?;
                Cancelled::Requested
            }
            state => Cancelled::AlreadyFinished(state),
        };
        transaction.commit()?;
        Ok(outcome)
    }

    /// After a restart: every run still `running` belonged to the server that stopped. It
    /// ends `interrupted` (`cancelled` if it was being cancelled), and with `requeue` the
    /// interrupted ones are queued again, as new runs pointing back at them. Waiting runs
    /// are left as they are: they are the queue.
    pub fn recover(&mut self, requeue: bool, at: SystemTime) -> Result<Recovered, StoreError> {
        let transaction = self.write()?;
        let running = select_runs(
            &transaction,
            &format!("{RUN_COLUMNS} WHERE r.state = 'running' ORDER BY r.id"),
            [],
        )?;
        let mut recovered = Recovered::default();
        let now = rfc3339(at);
        for run in running {
            let state = match run.cancel_requested {
                true => RunState::Cancelled,
                false => RunState::Interrupted,
            };
            transaction.execute(
                "UPDATE runs SET state = ?2, finished_at = ?3 WHERE id = ?1",
                params![run.id, state.as_str(), now],
            )?;
            if state == RunState::Cancelled {
                continue;
            }
            recovered.interrupted.push(run.id);
            if requeue {
                recovered.requeued.push(queue_again(&transaction, run, at)?);
            }
        }
        transaction.commit()?;
        Ok(recovered)
    }

    /// Queues an interrupted run again, as a new run pointing back at it (the server
    /// stopped under it). Its id.
    pub fn requeue(&mut self, id: i64, at: SystemTime) -> Result<i64, StoreError> {
        let transaction = self.write()?;
        let run = expect_state(&transaction, id, RunState::Interrupted, "interrupted")?;
        let again = queue_again(&transaction, run, at)?;
        transaction.commit()?;
        Ok(again)
    }

    /// One run.
    pub fn run(&self, id: i64) -> Result<Option<RunRow>, StoreError> {
        find_run(&self.conn, id)
    }

    /// The runs `filter` asks for, newest first.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRow>, StoreError> {
        let limit = filter
            .limit
            .unwrap_or(RunFilter::DEFAULT_LIMIT)
            .min(RunFilter::MAX_LIMIT);
        select_runs(
            &self.conn,
            &format!(
                "{RUN_COLUMNS} WHERE (?1 IS NULL OR p.name = ?1) AND (?2 IS NULL OR r.branch = ?2) \
                 AND (?3 IS NULL OR r.state = ?3) ORDER BY r.id DESC LIMIT ?4"
            ),
            params![
                filter.repository,
                filter.branch,
                filter.state.map(RunState::as_str),
                limit
            ],
        )
    }

    /// How many runs are in each state.
    pub fn counts(&self) -> Result<BTreeMap<&'static str, i64>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT state, COUNT(*) FROM runs GROUP BY state")?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get(1)?)))?;
        let mut counts: BTreeMap<&'static str, i64> = RunState::ALL
            .iter()
            .map(|state| (state.as_str(), 0))
            .collect();
        for row in rows {
            let (state, count) = row?;
            counts.insert(RunState::from_column(state)?.as_str(), count);
        }
        Ok(counts)
    }

    /// The latest run of `branch` in `repository` that has ended, for its badge.
    pub fn last_finished(
        &self,
        repository: &str,
        branch: &str,
    ) -> Result<Option<RunRow>, StoreError> {
        let mut runs = select_runs(
            &self.conn,
            &format!(
                "{RUN_COLUMNS} WHERE p.name = ?1 AND r.branch = ?2 \
                 AND r.state NOT IN ('queued', 'running') ORDER BY r.id DESC LIMIT 1"
            ),
            params![repository, branch],
        )?;
        Ok(runs.pop())
    }

    /// The branches `repository` has runs of, the most recently run first (at most 50).
    pub fn branches(&self, repository: &str) -> Result<Vec<String>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT r.branch FROM runs r JOIN repositories p ON p.id = r.repository_id \
             WHERE p.name = ?1 AND r.branch IS NOT NULL \
             GROUP BY r.branch ORDER BY MAX(r.id) DESC LIMIT 50",
        )?;
        let branches = statement
            .query_map(params![repository], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(branches)
    }

    /// The waiting runs in the order they will start: the first is next.
    pub fn queue(&self) -> Result<Vec<RunRow>, StoreError> {
        select_runs(
            &self.conn,
            &format!("{RUN_COLUMNS} WHERE r.state = 'queued' ORDER BY r.id"),
            [],
        )
    }

    pub(super) fn write(&mut self) -> Result<Transaction<'_>, StoreError> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }
}

impl std::fmt::Debug for RunStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunStore")
            .field("path", &self.conn.path().map(PathBuf::from))
            .finish()
    }
}

pub(super) fn repository_id(conn: &Connection, name: &str) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT id FROM repositories WHERE name = ?1",
        params![name],
        |row| row.get(0),
    )
    .optional()?
    .ok_or_else(|| StoreError::UnknownRepository(name.to_owned()))
}

fn insert_queued(
    conn: &Connection,
    repository: i64,
    run: &NewRun,
    at: SystemTime,
) -> Result<i64, StoreError> {
    let number: i64 = conn.query_row(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE repository_id = ?1",
        params![repository],
        |row| row.get(0),
    )?;
    conn.execute(
        "INSERT INTO runs (repository_id, number, pipeline, branch, git_ref, commit_sha, \
         message, author, trigger, state, attempt_of, queued_at, rerun_jobs, reuse_folder) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'queued', ?10, ?11, ?12, ?13)",
        params![
            repository,
            number,
            run.pipeline,
            run.branch,
            run.git_ref,
            run.commit,
            run.message,
            run.author,
            run.trigger.as_str(),
            run.attempt_of,
            rfc3339(at),
            run.rerun.as_ref().map(|rerun| rerun.jobs.to_column()),
            run.rerun.as_ref().map(|rerun| rerun.reuse_folder.clone()),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// A queued copy of `run`, triggered by the requeue.
fn queue_again(conn: &Connection, run: RunRow, at: SystemTime) -> Result<i64, StoreError> {
    let repository = repository_id(conn, &run.repository)?;
    let again = NewRun {
        repository: run.repository,
        pipeline: run.pipeline,
        branch: run.branch,
        git_ref: run.git_ref,
        commit: run.commit,
        message: run.message,
        author: run.author,
        trigger: Trigger::Requeue,
        attempt_of: Some(run.id),
        // Interrupted, it reuses what it was to reuse: the same earlier run.
        rerun: run.rerun,
    };
    insert_queued(conn, repository, &again, at)
}

pub(super) fn find_run(conn: &Connection, id: i64) -> Result<Option<RunRow>, StoreError> {
    let mut runs = select_runs(conn, &format!("{RUN_COLUMNS} WHERE r.id = ?1"), params![id])?;
    Ok(runs.pop())
}

/// The run, which must be in `state`.
fn expect_state(
    conn: &Connection,
    id: i64,
    state: RunState,
    expected: &'static str,
) -> Result<RunRow, StoreError> {
    let run = find_run(conn, id)?.ok_or(StoreError::UnknownRun(id))?;
    if run.state != state {
        return Err(StoreError::WrongState {
            id,
            state: run.state.to_string(),
            expected,
        });
    }
    Ok(run)
}

fn select_runs(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<RunRow>, StoreError> {
    let mut statement = conn.prepare_cached(sql)?;
    let rows = statement.query_map(params, run_row)?;
    let mut runs = Vec::new();
    for row in rows {
        runs.push(row??);
    }
    Ok(runs)
}

/// A row of [`RUN_COLUMNS`]; words no state or trigger has are an error, not a panic.
fn run_row(row: &Row<'_>) -> rusqlite::Result<Result<RunRow, StoreError>> {
    let trigger: String = row.get(9)?;
    let state: String = row.get(10)?;
    let (trigger, state) = match (Trigger::from_column(trigger), RunState::from_column(state)) {
        (Ok(trigger), Ok(state)) => (trigger, state),
        (Err(error), _) | (_, Err(error)) => return Ok(Err(error)),
    };
    let rerun_jobs: Option<String> = row.get(18)?;
    let reuse_folder: Option<String> = row.get(19)?;
    let rerun = match (rerun_jobs, reuse_folder) {
        (Some(jobs), Some(reuse_folder)) => match RerunJobs::from_column(jobs) {
            Ok(jobs) => Some(PartialRerun { jobs, reuse_folder }),
            Err(error) => return Ok(Err(error)),
        },
        _ => None,
    };
    Ok(Ok(RunRow {
        id: row.get(0)?,
        number: row.get(1)?,
        repository: row.get(2)?,
        pipeline: row.get(3)?,
        branch: row.get(4)?,
        git_ref: row.get(5)?,
        commit: row.get(6)?,
        message: row.get(7)?,
        author: row.get(8)?,
        trigger,
        state,
        run_folder: row.get(11)?,
        attempt_of: row.get(12)?,
        cancel_requested: row.get(13)?,
        queued_at: row.get(14)?,
        started_at: row.get(15)?,
        finished_at: row.get(16)?,
        problem: row.get(17)?,
        rerun,
    }))
}
