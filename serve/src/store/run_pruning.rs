//! Retention's part in the database: which finished runs of a repository are beyond what
//! is kept, their rows deleted, and the pages they held given back to the file system.
//! Every step is a short statement of its own, so that a long history is worked off in
//! small pieces and never holds the write lock for long (a single `DELETE` of a huge
//! history is what hangs a CI's database).

use super::run_store::{RunStore, repository_id};
use super::store_error::StoreError;
use pipekit_runner::storage::rfc3339;
use rusqlite::{OptionalExtension, params, params_from_iter};
use std::collections::BTreeSet;
use std::time::SystemTime;

/// How far back a repository's history is kept: the bounds, resolved at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneScope {
    /// Runs with a smaller id than this are beyond the newest N (`None`: no count bound,
    /// or fewer runs than N).
    pub below_id: Option<i64>,
    /// Runs that ended before this (RFC 3339) are too old.
    pub ended_before: Option<String>,
    /// Never deleted: the newest passed run of each branch (and of the runs of no branch),
    /// and the runs a waiting or running run repeats (a re-run reads their folders).
    pub kept: BTreeSet<i64>,
}

/// A finished run beyond what is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunableRun {
    pub id: i64,
    /// Its folder under `runs/<repository>/`, if it got one.
    pub run_folder: Option<String>,
}

impl RunStore {
    /// What `repository` keeps with the newest `runs` runs and the runs that ended after
    /// `too_old_before`.
    pub fn prune_scope(
        &self,
        repository: &str,
        runs: Option<u32>,
        too_old_before: Option<SystemTime>,
    ) -> Result<PruneScope, StoreError> {
        let id = repository_id(&self.conn, repository)?;
        let below_id = match runs {
            None => None,
            Some(runs) => self
                .conn
                .query_row(
                    "SELECT id FROM runs WHERE repository_id = ?1 \
                     ORDER BY id DESC LIMIT 1 OFFSET ?2",
                    params![id, i64::from(runs.max(1)) - 1],
                    |row| row.get(0),
                )
                .optional()?,
        };
        let mut statement = self.conn.prepare_cached(
            "SELECT MAX(id) FROM runs WHERE repository_id = ?1 AND state = 'passed' \
             GROUP BY branch \
             UNION SELECT attempt_of FROM runs WHERE repository_id = ?1 \
             AND attempt_of IS NOT NULL AND state IN ('queued', 'running')",
        )?;
        let kept = statement
            .query_map(params![id], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(PruneScope {
            below_id,
            ended_before: too_old_before.map(rfc3339),
            kept,
        })
    }

    /// Up to `limit` finished runs of `repository` beyond `scope`, oldest first, with ids
    /// above `after` (so that runs left in place, their folder stuck, are not asked for
    /// again in the same pass).
    pub fn prunable_runs(
        &self,
        repository: &str,
        scope: &PruneScope,
        after: i64,
        limit: usize,
    ) -> Result<Vec<PrunableRun>, StoreError> {
        let id = repository_id(&self.conn, repository)?;
        let mut statement = self.conn.prepare_cached(
            "SELECT id, run_folder FROM runs WHERE repository_id = ?1 AND id > ?2 \
             AND state NOT IN ('queued', 'running') \
             AND (id < ?3 OR COALESCE(finished_at, queued_at) < ?4) \
             ORDER BY id LIMIT ?5",
        )?;
        let mut prunable = Vec::new();
        let mut last = after;
        // The kept runs are filtered out here rather than in SQL: they are few, and a
        // page of candidates that were all kept must not end the pass early.
        loop {
            let page: Vec<PrunableRun> = statement
                .query_map(
                    params![
                        id,
                        last,
                        scope.below_id.unwrap_or(i64::MIN),
                        // Every time is after the empty string: no age bound.
                        scope.ended_before.as_deref().unwrap_or(""),
                        i64::try_from(limit).unwrap_or(i64::MAX)
                    ],
                    |row| {
                        Ok(PrunableRun {
                            id: row.get(0)?,
                            run_folder: row.get(1)?,
                        })
                    },
                )?
                .collect::<Result<_, _>>()?;
            let Some(end) = page.last().map(|run| run.id) else {
                return Ok(prunable);
            };
            last = end;
            prunable.extend(page.into_iter().filter(|run| !scope.kept.contains(&run.id)));
            if prunable.len() >= limit {
                prunable.truncate(limit);
                return Ok(prunable);
            }
        }
    }

    /// Deletes the rows of runs `ids` that are still finished and repeated by no waiting
    /// or running run (either may have changed since they were chosen). Runs that repeat
    /// one of them forget it. How many were deleted.
    pub fn delete_runs(&mut self, ids: &[i64]) -> Result<usize, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let transaction = self.write()?;
        let deletable: Vec<i64> = {
            let list = vec!["?"; ids.len()].join(", ");
            let mut statement = transaction.prepare(&format!(
                "SELECT id FROM runs WHERE id IN ({list}) \
                 AND state NOT IN ('queued', 'running') \
                 AND id NOT IN (SELECT attempt_of FROM runs WHERE attempt_of IS NOT NULL \
                 AND state IN ('queued', 'running'))"
            ))?;
            statement
                .query_map(params_from_iter(ids), |row| row.get(0))?
                .collect::<Result<_, _>>()?
        };
        if deletable.is_empty() {
            return Ok(0);
        }
        let list = vec!["?"; deletable.len()].join(", ");
        // The finished runs that repeat one of them forget it (the key would refuse the
        // delete): their own record says what they ran.
        transaction.execute(
            &format!("UPDATE runs SET attempt_of = NULL WHERE attempt_of IN ({list})"),
            params_from_iter(&deletable),
        )?;
        let deleted = transaction.execute(
            &format!("DELETE FROM runs WHERE id IN ({list})"),
            params_from_iter(&deletable),
        )?;
        transaction.commit()?;
        Ok(deleted)
    }

    /// Gives up to `pages` free pages back to the file system (the database is
    /// `auto_vacuum = INCREMENTAL`); whether free pages are left.
    pub fn vacuum_some(&mut self, pages: u32) -> Result<bool, StoreError> {
        self.conn
            .execute_batch(&format!("PRAGMA incremental_vacuum({pages})"))?;
        Ok(self.free_pages()? > 0)
    }

    /// Pages of the file that hold nothing.
    pub fn free_pages(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA freelist_count", [], |row| row.get(0))?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewRun, RunFilter, RunState, Trigger};
    use std::time::{Duration, UNIX_EPOCH};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const DAY: u64 = 86_400;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_342_400 + seconds)
    }

    fn open(dir: &tempfile::TempDir) -> Result<RunStore, StoreError> {
        let mut store = RunStore::open(&dir.path().join("pipekit.db"))?;
        store.add_repository("app", "/srv/app")?;
        store.add_repository("lib", "/srv/lib")?;
        Ok(store)
    }

    fn manual(repository: &str, branch: &str) -> NewRun {
        NewRun {
            repository: repository.to_owned(),
            pipeline: "pipekit.yml".to_owned(),
            branch: Some(branch.to_owned()),
            git_ref: Some(format!("refs/heads/{branch}")),
            commit: "c0ffee".to_owned(),
            message: "Test".to_owned(),
            author: "Ada <ada@example.com>".to_owned(),
            trigger: Trigger::Manual,
            attempt_of: None,
            rerun: None,
        }
    }

    /// A run of `branch` queued, started and ended as `state` on day `day`.
    fn ran(
        store: &mut RunStore,
        repository: &str,
        branch: &str,
        state: RunState,
        day: u64,
    ) -> Result<i64, Box<dyn std::error::Error>> {
        let id = store
            .enqueue(&manual(repository, branch), at(day * DAY))?
            .ok_or("not queued")?;
        let started = store
            .start_next(10, at(day * DAY + 1))?
            .ok_or("not started")?;
        assert_eq!(started.id, id);
        store.finish(id, state, None, at(day * DAY + 2))?;
        Ok(id)
    }

    fn prunable(store: &RunStore, scope: &PruneScope) -> Result<Vec<i64>, StoreError> {
        Ok(store
            .prunable_runs("app", scope, 0, 1000)?
            .into_iter()
            .map(|run| run.id)
            .collect())
    }

    #[test]
    fn beyond_the_newest_runs_go_but_the_newest_passed_of_each_branch_and_the_queue_stay()
    -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut store = open(&dir)?;
        let old_main_pass = ran(&mut store, "app", "main", RunState::Passed, 0)?;
        let main_pass = ran(&mut store, "app", "main", RunState::Passed, 1)?;
        let dev_pass = ran(&mut store, "app", "dev", RunState::Passed, 2)?;
        let dev_fail = ran(&mut store, "app", "dev", RunState::Failed, 3)?;
        let main_fail = ran(&mut store, "app", "main", RunState::Failed, 4)?;
        ran(&mut store, "lib", "main", RunState::Failed, 5)?;
        // Going on, before the newest runs: never touched.
        let going_on = store
            .enqueue(&manual("app", "main"), at(6 * DAY))?
            .ok_or("queued")?;
        store.start_next(10, at(6 * DAY))?;
        let newest = ran(&mut store, "app", "main", RunState::Failed, 7)?;

        let scope = store.prune_scope("app", Some(2), None)?;
        assert_eq!(scope.kept, BTreeSet::from([main_pass, dev_pass]));
        assert_eq!(
            prunable(&store, &scope)?,
            [old_main_pass, dev_fail, main_fail]
        );
        assert_eq!(store.delete_runs(&[old_main_pass, dev_fail, main_fail])?, 3);
        let left: Vec<i64> = store
            .runs(&RunFilter::default())?
            .into_iter()
            .map(|run| run.id)
            .rev()
            .collect();
        assert_eq!(left, [main_pass, dev_pass, 6, going_on, newest]);
        assert_eq!(
            store.run(going_on)?.map(|run| run.state),
            Some(RunState::Running)
        );

        let few = store.prune_scope("app", Some(100), None)?;
        assert_eq!((few.below_id, prunable(&store, &few)?), (None, vec![]));
        Ok(())
    }

    #[test]
    fn runs_that_ended_too_long_ago_go_and_an_age_or_a_count_is_enough() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut store = open(&dir)?;
        let runs: Vec<i64> = (0..6)
            .map(|day| ran(&mut store, "app", "main", RunState::Failed, day))
            .collect::<Result<_, _>>()?;
        let pass = ran(&mut store, "app", "main", RunState::Passed, 6)?;
        let now = at(7 * DAY);
        // Ended more than 3 days before day 7: days 0 to 3 (day 3 ended at 3d + 2 s).
        let by_age =
            store.prune_scope("app", None, now.checked_sub(Duration::from_secs(3 * DAY)))?;
        assert_eq!(prunable(&store, &by_age)?, runs[..4]);
        let either = store.prune_scope(
            "app",
            Some(2),
            now.checked_sub(Duration::from_secs(5 * DAY)),
        )?;
        assert_eq!(prunable(&store, &either)?, runs[..5], "the count took more");
        assert!(!prunable(&store, &either)?.contains(&pass));
        Ok(())
    }

    #[test]
    fn a_big_history_comes_in_batches_past_kept_runs_and_rerun_sources_stay() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut store = open(&dir)?;
        let first_pass = ran(&mut store, "app", "main", RunState::Passed, 0)?;
        let failed: Vec<i64> = (1..=250)
            .map(|_| ran(&mut store, "app", "main", RunState::Failed, 1))
            .collect::<Result<_, _>>()?;
        // A re-run of an old failure waits: its source is kept for its folder.
        let mut again = manual("app", "main");
        again.attempt_of = Some(failed[0]);
        again.trigger = Trigger::Rerun;
        store.enqueue(&again, at(2 * DAY))?;
        let scope = store.prune_scope("app", Some(1), None)?;
        assert!(scope.kept.contains(&first_pass) && scope.kept.contains(&failed[0]));
        let mut after = 0;
        let mut batches = Vec::new();
        loop {
            let batch = store.prunable_runs("app", &scope, after, 100)?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            batches.push(batch.len());
            let ids: Vec<i64> = batch.iter().map(|run| run.id).collect();
            assert_eq!(store.delete_runs(&ids)?, ids.len());
        }
        // The waiting re-run is the newest run: 249 of the 250 failed go, in 100, 100, 49.
        assert_eq!(batches, [100, 100, 49]);
        assert_eq!(store.runs(&RunFilter::default())?.len(), 3);
        // Deleting the kept source anyway is refused while its re-run waits.
        assert_eq!(store.delete_runs(&[failed[0]])?, 0);
        Ok(())
    }

    #[test]
    fn a_run_repeated_by_a_finished_one_can_go_and_is_forgotten_by_it() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut store = open(&dir)?;
        let first = ran(&mut store, "app", "main", RunState::Failed, 0)?;
        let mut again = manual("app", "main");
        again.attempt_of = Some(first);
        let again = store.enqueue(&again, at(DAY))?.ok_or("queued")?;
        store.start_next(1, at(DAY))?;
        store.finish(again, RunState::Failed, None, at(DAY))?;
        assert_eq!(store.delete_runs(&[first])?, 1);
        assert_eq!(store.run(again)?.and_then(|run| run.attempt_of), None);
        Ok(())
    }

    #[test]
    fn the_freed_pages_are_given_back_to_the_file_system() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("pipekit.db");
        let mut store = open(&dir)?;
        let mut big = manual("app", "main");
        big.message = "x".repeat(20_000);
        let ids: Vec<i64> = (0..200)
            .map(|second| store.enqueue(&big, at(second)))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect();
        for &id in &ids {
            store.cancel(id, at(300))?;
        }
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        let before = std::fs::metadata(&path)?.len();
        for chunk in ids.chunks(50) {
            store.delete_runs(chunk)?;
        }
        assert!(
            store.free_pages()? > 100,
            "the deleted rows left free pages"
        );
        while store.vacuum_some(64)? {}
        assert_eq!(store.free_pages()?, 0);
        store
            .conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
        let after = std::fs::metadata(&path)?.len();
        assert!(after < before / 4, "{before} bytes, then {after}");
        Ok(())
    }
}
