//! A newer push to a branch supersedes the branch's older runs (`cancel_superseded`).

use super::run_row::{Cancelled, RunState};
use super::run_store::{RunStore, find_run};
use super::store_error::StoreError;
use pipekit_runner::storage::rfc3339;
use rusqlite::params;
use std::time::SystemTime;

impl RunStore {
    /// Cancels the older runs that run `id` supersedes: those of its repository, branch
    /// and pipeline file still waiting (cancelled at once) or going on (marked, as by
    /// [`RunStore::cancel`]), whatever queued them. Each says which run superseded it. Runs
    /// of no branch (a tag's) supersede nothing. The runs cancelled, oldest first.
    pub fn supersede(
        &mut self,
        id: i64,
        at: SystemTime,
    ) -> Result<Vec<(i64, Cancelled)>, StoreError> {
        let transaction = self.write()?;
        let newer = find_run(&transaction, id)?.ok_or(StoreError::UnknownRun(id))?;
        let older: Vec<(i64, String)> = {
            let mut statement = transaction.prepare_cached(
                "SELECT o.id, o.state FROM runs n JOIN runs o \
                 ON o.repository_id = n.repository_id AND o.branch = n.branch \
                 AND o.pipeline = n.pipeline \
                 WHERE n.id = ?1 AND o.id < n.id AND o.state IN ('queued', 'running') \
                 ORDER BY o.id",
            )?;
            let rows = statement.query_map(params![id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let why = format!("superseded by run #{} ({})", newer.number, newer.commit);
        let mut cancelled = Vec::new();
        for (older_id, state) in older {
            let outcome = match RunState::from_column(state)? {
                RunState::Queued => {
                    transaction.execute(
                        "UPDATE runs SET state = 'cancelled', finished_at = ?2, problem = ?3 \
                         WHERE id = ?1",
                        params![older_id, rfc3339(at), why],
                    )?;
                    Cancelled::Dequeued
                }
                _ => {
                    transaction.execute(
                        "UPDATE runs SET cancel_requested = 1, problem = ?2 WHERE id = ?1",
                        params![older_id, why],
                    )?;
                    Cancelled::Requested
                }
            };
            cancelled.push((older_id, outcome));
        }
        transaction.commit()?;
        Ok(cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewRun, RunFilter, Trigger};
    use std::time::{Duration, UNIX_EPOCH};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_342_400 + seconds)
    }

    fn push(repository: &str, branch: Option<&str>, pipeline: &str, commit: &str) -> NewRun {
        NewRun {
            repository: repository.to_owned(),
            pipeline: pipeline.to_owned(),
            branch: branch.map(str::to_owned),
            git_ref: branch.map(|branch| format!("refs/heads/{branch}")),
            commit: commit.to_owned(),
            message: "Push".to_owned(),
            author: "Ada <ada@example.com>".to_owned(),
            trigger: Trigger::Hook,
            attempt_of: None,
            rerun: None,
        }
    }

    fn queue(
        store: &mut RunStore,
        run: NewRun,
        second: u64,
    ) -> Result<i64, Box<dyn std::error::Error>> {
        Ok(store.enqueue(&run, at(second))?.ok_or("not queued")?)
    }

    fn state(
        store: &RunStore,
        id: i64,
    ) -> Result<(RunState, bool, Option<String>), Box<dyn std::error::Error>> {
        let run = store.run(id)?.ok_or("no run")?;
        Ok((run.state, run.cancel_requested, run.problem))
    }

    #[test]
    fn only_the_older_waiting_and_running_runs_of_the_branch_and_file_are_cancelled() -> TestResult
    {
        let dir = tempfile::tempdir()?;
        let mut store = RunStore::open(&dir.path().join("pipekit.db"))?;
        store.add_repository("app", "/srv/app")?;
        store.add_repository("lib", "/srv/lib")?;
        let running = queue(
            &mut store,
            push("app", Some("main"), "pipekit.yml", "a1"),
            1,
        )?;
        store.start_next(1, at(2))?;
        let waiting = queue(
            &mut store,
            push("app", Some("main"), "pipekit.yml", "a2"),
            3,
        )?;
        let finished = queue(
            &mut store,
            push("app", Some("main"), "pipekit.yml", "a0"),
            4,
        )?;
        store.cancel(finished, at(5))?;
        let other_file = queue(
            &mut store,
            push("app", Some("main"), "ci/other.yml", "a2"),
            6,
        )?;
        let other_branch = queue(&mut store, push("app", Some("dev"), "pipekit.yml", "d1"), 7)?;
        let other_repository = queue(
            &mut store,
            push("lib", Some("main"), "pipekit.yml", "l1"),
            8,
        )?;
        let tag = queue(&mut store, push("app", None, "pipekit.yml", "t1"), 9)?;
        let newer = queue(
            &mut store,
            push("app", Some("main"), "pipekit.yml", "a3"),
            10,
        )?;
        let later_tag = queue(&mut store, push("app", None, "pipekit.yml", "t2"), 11)?;

        let cancelled = store.supersede(newer, at(12))?;
        assert_eq!(
            cancelled,
            [
                (running, Cancelled::Requested),
                (waiting, Cancelled::Dequeued)
            ]
        );
        let why = Some("superseded by run #7 (a3)".to_owned());
        assert_eq!(
            state(&store, running)?,
            (RunState::Running, true, why.clone())
        );
        assert_eq!(
            state(&store, waiting)?,
            (RunState::Cancelled, false, why.clone())
        );
        for untouched in [other_file, other_branch, other_repository, tag] {
            assert_eq!(
                state(&store, untouched)?.0,
                RunState::Queued,
                "run {untouched}"
            );
        }
        assert!(
            store.supersede(later_tag, at(13))?.is_empty(),
            "a tag is no branch"
        );
        // The running one ends cancelled, still saying why.
        assert_eq!(
            store.finish(running, RunState::Interrupted, None, at(14))?,
            RunState::Cancelled
        );
        assert_eq!(state(&store, running)?, (RunState::Cancelled, true, why));
        assert!(store.supersede(newer, at(15))?.is_empty(), "nothing twice");
        assert_eq!(store.runs(&RunFilter::default())?.len(), 9);
        Ok(())
    }
}
