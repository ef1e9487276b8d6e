//! A job's log file, written by its stdout and stderr pumps at once.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// `logs/<job>.log`, shared by the job's two output pumps.
#[derive(Debug, Clone)]
pub struct LogWriter {
    file: Arc<Mutex<BufWriter<File>>>,
}

impl LogWriter {
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path)?;
        Ok(Self {
            file: Arc::new(Mutex::new(BufWriter::with_capacity(64 * 1024, file))),
        })
    }

    /// Appends one line and its newline.
    pub fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line)?;
        file.write_all(b"\n")
    }

    /// Makes what was written visible to readers of the file (`tail -f`, the JUnit report).
    pub fn flush(&self) -> io::Result<()> {
        self.file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .flush()
    }
}
