//! The web UI's users and their sessions.

use super::run_store::RunStore;
use super::store_error::StoreError;
use crate::access::Role;
use pipekit_runner::storage::rfc3339;
use rusqlite::{OptionalExtension, params};
use std::time::{SystemTime, UNIX_EPOCH};

/// A user, with what signing in checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub role: Role,
    /// argon2id, as a PHC string.
    pub password_hash: String,
}

/// A session that has not ended: whose it is and its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub user: String,
    pub role: Role,
    pub csrf_token: String,
}

impl RunStore {
    /// Adds a user; an error if the name is taken.
    pub fn add_user(
        &mut self,
        name: &str,
        role: Role,
        password_hash: &str,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        let transaction = self.write()?;
        let inserted = transaction.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (name) DO NOTHING",
            params![name, role.as_str(), password_hash, rfc3339(at)],
        )?;
        if inserted == 0 {
            return Err(StoreError::UserExists(name.to_owned()));
        }
        transaction.commit()?;
        Ok(())
    }

    /// How many users there are: none means the server has no way to sign anyone in.
    pub fn user_count(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM users", [], |row| row.get(0))?)
    }

    pub fn user(&self, name: &str) -> Result<Option<UserRow>, StoreError> {
        let row: Option<(String, String, String)> = self
            .conn
            .query_row(
                "SELECT name, role, password_hash FROM users WHERE name = ?1",
                params![name],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        row.map(|(name, role, password_hash)| {
            Ok(UserRow {
                name,
                role: role_of(role)?,
                password_hash,
            })
        })
        .transpose()
    }

    /// Starts a session of `user` until `expires`, known by the digest of its cookie.
    /// Sessions that ended are dropped on the way.
    pub fn start_session(
        &mut self,
        user: &str,
        token_digest: &[u8],
        csrf_token: &str,
        at: SystemTime,
        expires: SystemTime,
    ) -> Result<(), StoreError> {
        let transaction = self.write()?;
        transaction.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1",
            params![unix_seconds(at)],
        )?;
        transaction.execute(
            "INSERT INTO sessions (token_digest, user_id, csrf_token, created_at, expires_at) \
             SELECT ?1, id, ?3, ?4, ?5 FROM users WHERE name = ?2",
            params![
                token_digest,
                user,
                csrf_token,
                rfc3339(at),
                unix_seconds(expires)
            ],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// The session whose cookie has `token_digest`, if it has not ended by `at`. Looked up
    /// by digest: the index finds it, and what the lookup's timing could tell is about
    /// the digest, which gives nothing away about the cookie.
    pub fn session(
        &self,
        token_digest: &[u8],
        at: SystemTime,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row: Option<(String, String, String)> = self
            .conn
            .query_row(
                "SELECT u.name, u.role, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_digest = ?1 AND s.expires_at > ?2",
                params![token_digest, unix_seconds(at)],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        row.map(|(user, role, csrf_token)| {
            Ok(SessionRow {
                user,
                role: role_of(role)?,
                csrf_token,
            })
        })
        .transpose()
    }

    /// Ends the session whose cookie has `token_digest` (signing out).
    pub fn end_session(&mut self, token_digest: &[u8]) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM sessions WHERE token_digest = ?1",
            params![token_digest],
        )?;
        Ok(())
    }
}

fn role_of(word: String) -> Result<Role, StoreError> {
    Role::parse(&word).ok_or(StoreError::Corrupt {
        what: "role",
        value: word,
    })
}

fn unix_seconds(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_796_342_400 + seconds)
    }

    #[test]
    fn users_and_their_sessions_until_they_end() -> TestResult {
        let dir = tempfile::tempdir()?;
        let mut store = RunStore::open(&dir.path().join("pipekit.db"))?;
        assert_eq!(store.user_count()?, 0);
        store.add_user("ada", Role::Operator, "$argon2id$…", at(0))?;
        assert!(matches!(
            store.add_user("ada", Role::Viewer, "$argon2id$…", at(1)),
            Err(StoreError::UserExists(name)) if name == "ada"
        ));
        assert_eq!(store.user_count()?, 1);
        let ada = store.user("ada")?.ok_or("no ada")?;
        assert_eq!(
            (ada.role, ada.password_hash.as_str()),
            (Role::Operator, "$argon2id$…")
        );
        assert_eq!(store.user("bob")?, None);

        store.start_session("ada", b"digest-1", "csrf-1", at(10), at(100))?;
        let session = store.session(b"digest-1", at(50))?.ok_or("no session")?;
        assert_eq!(
            (
                session.user.as_str(),
                session.role,
                session.csrf_token.as_str()
            ),
            ("ada", Role::Operator, "csrf-1")
        );
        assert_eq!(store.session(b"digest-2", at(50))?, None);
        assert_eq!(store.session(b"digest-1", at(100))?, None, "ended");
        store.start_session("ada", b"digest-2", "csrf-2", at(20), at(200))?;
        store.end_session(b"digest-2")?;
        assert_eq!(store.session(b"digest-2", at(30))?, None, "signed out");
        Ok(())
    }
}
