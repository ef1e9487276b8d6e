//! A job's log file, written by its stdout and stderr pumps at once.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// `logs/<job>.log`, shared by the job's two output pumps. The file is created by the first
/// write or flush, on a pump's task: creating hundreds of files on the driver's task would
/// delay every job start behind it.
#[derive(Debug, Clone)]
pub struct LogWriter {
    state: Arc<Mutex<LogState>>,
}

#[derive(Debug)]
struct LogState {
    path: PathBuf,
    file: Option<BufWriter<File>>,
}

impl LogState {
    fn file(&mut self) -> io::Result<&mut BufWriter<File>> {
        if self.file.is_none() {
            let file = File::create(&self.path)?;
            self.file = Some(BufWriter::with_capacity(64 * 1024, file));
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("log file not open"))
    }
}

impl LogWriter {
    pub fn new(path: PathBuf) -> Self {
        Self {
            state: Arc::new(Mutex::new(LogState { path, file: None })),
        }
    }

    /// Appends one line and its newline.
    pub fn write_line(&self, line: &[u8]) -> io::Result<()> {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let file = state.file()?;
        file.write_all(line)?;
        file.write_all(b"\n")
    }

    /// Makes what was written visible to readers of the file (`tail -f`, the JUnit report);
    /// creates the file if nothing was written, so every job that ran has a log.
    pub fn flush(&self) -> io::Result<()> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .file()?
            .flush()
    }
}
