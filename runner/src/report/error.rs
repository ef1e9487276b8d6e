//! What can go wrong while writing a run's reports.

use std::io;
use std::path::PathBuf;

/// Why `junit.xml` or `run.json` could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A job's log exists but could not be read.
    #[error("failed to read log `{}`", path.display())]
    ReadLog {
        /// The log file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },

    /// quick-junit could not render the report.
    #[error("failed to render the JUnit report")]
    RenderJunit(#[from] quick_junit::SerializeError),

    /// serde_json could not render the record.
    #[error("failed to render run.json")]
    RenderJson(#[from] serde_json::Error),

    /// A report file or its folder could not be written.
    #[error("failed to write `{}`", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
}
