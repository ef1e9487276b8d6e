//! The forge webhook deliveries taken, so that one sent again queues nothing new.

use super::run_store::{RunStore, repository_id};
use super::store_error::StoreError;
use pipekit_runner::storage::rfc3339;
use rusqlite::{OptionalExtension, params};
use std::time::SystemTime;

/// Deliveries remembered per repository; older ones are forgotten as new ones come.
pub const KEPT_DELIVERIES: i64 = 1000;

impl RunStore {
    /// Whether `repository` took the delivery `delivery_id` before.
    pub fn delivery_taken(&self, repository: &str, delivery_id: &str) -> Result<bool, StoreError> {
        let id = repository_id(&self.conn, repository)?;
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM webhook_deliveries WHERE repository_id = ?1 AND delivery_id = ?2",
                params![id, delivery_id],
                |row| row.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    /// Notes that `repository` took the delivery `delivery_id` (once its push is queued);
    /// false if it was noted before. Forgets all but the latest [`KEPT_DELIVERIES`].
    pub fn take_delivery(
        &mut self,
        repository: &str,
        delivery_id: &str,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
        let transaction = self.write()?;
        let id = repository_id(&transaction, repository)?;
        let inserted = transaction.execute(
            "INSERT INTO webhook_deliveries (repository_id, delivery_id, received_at) \
             VALUES (?1, ?2, ?3) ON CONFLICT (repository_id, delivery_id) DO NOTHING",
            params![id, delivery_id, rfc3339(at)],
        )?;
        transaction.execute(
            "DELETE FROM webhook_deliveries WHERE repository_id = ?1 AND id <= \
             (SELECT id FROM webhook_deliveries WHERE repository_id = ?1 \
              ORDER BY id DESC LIMIT 1 OFFSET ?2)",
            params![id, KEPT_DELIVERIES],
        )?;
        transaction.commit()?;
        Ok(inserted == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_342_400 + seconds)
    }

    #[test]
    fn a_delivery_is_taken_once_per_repository_and_survives_a_restart() -> TestResult {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("pipekit.db");
        let mut store = RunStore::open(&path)?;
        store.add_repository("app", "/srv/app")?;
        store.add_repository("lib", "/srv/lib")?;
        assert!(!store.delivery_taken("app", "d1")?);
        assert!(store.take_delivery("app", "d1", at(0))?);
        assert!(!store.take_delivery("app", "d1", at(1))?, "noted before");
        assert!(!store.delivery_taken("lib", "d1")?, "another repository's");
        drop(store);
        let store = RunStore::open(&path)?;
        assert!(store.delivery_taken("app", "d1")?);
        assert!(matches!(
            store.delivery_taken("nope", "d1"),
            Err(StoreError::UnknownRepository(_))
        ));
        Ok(())
    }

    #[test]
    fn only_the_latest_deliveries_are_kept() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut store = RunStore::open(&dir.path().join("pipekit.db"))?;
        store.add_repository("app", "/srv/app")?;
        store.add_repository("lib", "/srv/lib")?;
        store.take_delivery("lib", "d0", at(0))?;
        for n in 0..=KEPT_DELIVERIES {
            store.take_delivery("app", &format!("d{n}"), at(n as u64))?;
        }
        assert!(
            !store.delivery_taken("app", "d0")?,
            "the oldest is forgotten"
        );
        assert!(store.delivery_taken("app", "d1")?);
        assert!(store.delivery_taken("app", &format!("d{KEPT_DELIVERIES}"))?);
        assert!(
            store.delivery_taken("lib", "d0")?,
            "another repository's stay"
        );
        let kept: i64 =
            store
                .conn
                .query_row("SELECT COUNT(*) FROM webhook_deliveries", [], |row| {
                    row.get(0)
                })?;
        assert_eq!(kept, KEPT_DELIVERIES + 1);
        Ok(())
    }
}
