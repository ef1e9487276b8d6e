//! The database's schema, brought up to date as the store opens: each migration runs once,
//! in one transaction with the `user_version` it leads to, so a crash leaves the schema
//! before it or after it.

use super::store_error::StoreError;
use rusqlite::Connection;
use std::path::Path;

/// In order: the schema version after migration `n` is `n + 1`. Never edit one that has
/// shipped; add the next.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_history.sql"),
    include_str!("migrations/0002_run_problem.sql"),
    include_str!("migrations/0003_branch_tips.sql"),
    include_str!("migrations/0004_deliveries.sql"),
    include_str!("migrations/0005_users.sql"),
    include_str!("migrations/0006_rerun_jobs.sql"),
    include_str!("migrations/0007_status_outbox.sql"),
];

/// The schema version this pipekit-ci writes.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

pub(super) fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let done = usize::try_from(found).unwrap_or(usize::MAX);
    if done > SCHEMA_VERSION {
        // Its tables mean what a newer pipekit-ci says: writing them could break it.
        return Err(StoreError::Newer {
            path: path.to_owned(),
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let version = index + 1;
        let failed = |source| StoreError::Migrate { version, source };
        let transaction = conn.transaction().map_err(failed)?;
        transaction.execute_batch(sql).map_err(failed)?;
        // A pragma takes no bound parameters: the number is written into the statement.
        transaction
            .execute_batch(&format!("PRAGMA user_version = {version}"))
            .map_err(failed)?;
        transaction.commit().map_err(failed)?;
    }
    Ok(())
}
