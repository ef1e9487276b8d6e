//! What can go wrong with the service's database.

use std::path::PathBuf;

/// An error of the [`RunStore`](super::RunStore).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database `{path}`")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the database `{path}` is of schema version {found}, written by a newer pipekit-ci \
         (this one knows up to {known}); it is left as it is"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("cannot bring the database to schema version {version}")]
    Migrate {
        version: usize,
        #[source]
        source: rusqlite::Error,
    },
    #[error("no repository `{0}`")]
    UnknownRepository(String),
    #[error(
        "`{0}` is not a repository name: letters, digits, `-`, `_` and `.`, not starting \
         with a dot"
    )]
    RepositoryName(String),
    #[error("there is a user `{0}` already")]
    UserExists(String),
    #[error("no run {0}")]
    UnknownRun(i64),
    #[error("run {id} is {state}, not {expected}")]
    WrongState {
        id: i64,
        state: String,
        expected: &'static str,
    },
    #[error("the database holds `{value}` where a {what} belongs")]
    Corrupt { what: &'static str, value: String },
    #[error("database")]
    Sqlite(#[from] rusqlite::Error),
}
