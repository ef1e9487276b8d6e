//! What the poller saw: each repository's branches and their tips.

use super::run_store::{RunStore, repository_id};
use super::store_error::StoreError;
use pipekit_runner::storage::rfc3339;
use rusqlite::{OptionalExtension, params};
use std::collections::BTreeMap;
use std::time::SystemTime;

impl RunStore {
    /// The branch tips the poller last saw in `repository`, by branch. `None` before the
    /// repository's first poll, so that it can learn them without queueing anything.
    pub fn branch_tips(
        &self,
        repository: &str,
    ) -> Result<Option<BTreeMap<String, String>>, StoreError> {
        let id = repository_id(&self.conn, repository)?;
        let polled: Option<String> = self
            .conn
            .query_row(
                "SELECT polled_at FROM repositories WHERE id = ?1",
                params![id],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        if polled.is_none() {
            return Ok(None);
        }
        let mut statement = self.conn.prepare_cached(
            "SELECT branch, commit_sha FROM branch_tips WHERE repository_id = ?1",
        )?;
        let rows = statement.query_map(params![id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(Some(rows.collect::<Result<_, _>>()?))
    }

    /// Records what a poll of `repository` saw: every branch and its tip (branches not in
    /// `tips` are gone).
    pub fn set_branch_tips(
        &mut self,
        repository: &str,
        tips: &BTreeMap<String, String>,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        let transaction = self.write()?;
        let id = repository_id(&transaction, repository)?;
        transaction.execute(
            "DELETE FROM branch_tips WHERE repository_id = ?1",
            params![id],
        )?;
        for (branch, sha) in tips {
            transaction.execute(
                "INSERT INTO branch_tips (repository_id, branch, commit_sha) VALUES (?1, ?2, ?3)",
                params![id, branch, sha],
            )?;
        }
        transaction.execute(
            "UPDATE repositories SET polled_at = ?2 WHERE id = ?1",
            params![id, rfc3339(at)],
        )?;
        transaction.commit()?;
        Ok(())
    }
}
