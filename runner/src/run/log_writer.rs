//! A job's log file, written by its stdout and stderr pumps at once.

use super::log_limit::format_size;
use crate::storage::RunFolder;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// `logs/<job>.log`, shared by the job's two output pumps. The file is created by the first
/// write, on a pump's task: creating hundreds of files on the driver's task would delay
/// every job start behind it. A job that prints nothing gets its log as a hard link to the
/// run's one empty log (`RunFolder::empty_log_path`): a name costs no inode, and on ext4
/// every inode allocated (and, in the next run, freed) was the largest cost of a wide graph.
#[derive(Debug, Clone)]
pub struct LogWriter {
    state: Arc<Mutex<LogState>>,
}

/// What the console should show for a line handed to [`LogWriter::write_line`].
#[derive(Debug, PartialEq, Eq)]
pub struct Echo {
    /// The line itself (false once the log limit was reached: the console keeps to the log).
    pub line: bool,
    /// A line of pipekit-ci's own to show after it: the limit marker, or a write failure.
    pub note: Option<String>,
}

#[derive(Debug)]
struct LogState {
    path: PathBuf,
    file: Option<BufWriter<File>>,
    /// Bytes a job may log (`--log-limit`); `None`: no limit.
    limit: Option<u64>,
    written: u64,
    /// Bytes past the limit, counted so the end of the log can say what was lost.
    dropped: u64,
    /// Set by the first failed write: the log is given up on, the job is not.
    broken: bool,
    /// A failure to tell the console about with the next line.
    pending_note: Option<String>,
    /// The log exists as a link to the empty log: the other pump's end and the drop have
    /// nothing left to do (each retry was a failing `link` and a `stat` per job).
    linked: bool,
    folder: Arc<RunFolder>,
}

impl LogState {
    fn file(&mut self) -> io::Result<&mut BufWriter<File>> {
        if self.file.is_none() {
            let file = create_fresh(&self.path)?;
            self.file = Some(BufWriter::with_capacity(64 * 1024, file));
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("log file not open"))
    }

    /// Runs a write; a failure (a full disk) stops the logging, never the job.
    fn attempt(&mut self, write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>) {
        if self.broken {
            return;
        }
        if let Err(error) = self.file().and_then(write) {
            self.broken = true;
            // Dropping the writer would retry the flush that just failed.
            if let Some(writer) = self.file.take() {
                let _ = writer.into_parts();
            }
            let first = self.folder.note_write_failure(&self.path, &error);
            if first {
                self.pending_note = Some(format!(
                    "[pipekit-ci: cannot write {}: {error}; this log is not kept from here on, \
                     the job goes on, and the run will end as errored]",
                    self.path.display()
                ));
            }
        }
    }

    /// Makes sure the log exists once a pump is done: the file written so far, flushed, or
    /// for a job that printed nothing a link to the empty log.
    fn finish(&mut self) {
        if self.file.is_some() || self.broken {
            self.attempt(|file| file.flush());
            return;
        }
        if self.linked {
            return;
        }
        let linked = std::fs::hard_link(self.folder.empty_log_path(), &self.path);
        // The path may already exist (a log of an earlier attempt); else, no empty log to
        // link to (or too many links to it): a file of its own, as before.
        if linked.is_ok() || self.path.exists() {
            self.linked = true;
        } else {
            self.attempt(|file| file.flush());
        }
    }

    fn write_marker(&mut self, text: &str) {
        self.attempt(|file| {
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")
        });
    }
}

impl Drop for LogState {
    /// The last pump is done with the log: only now is the number of dropped bytes known.
    fn drop(&mut self) {
        if let (Some(limit), true) = (self.limit, self.dropped > 0) {
            let marker = end_marker(limit, self.dropped);
            self.write_marker(&marker);
        }
        self.finish();
    }
}

impl LogWriter {
    /// `limit`: how many bytes of output the log keeps (`None`: all of it). Write failures
    /// are noted in `folder`, which decides how the run ends.
    pub fn new(path: PathBuf, limit: Option<u64>, folder: Arc<RunFolder>) -> Self {
        let state = LogState {
            path,
            file: None,
            limit,
            written: 0,
            dropped: 0,
            broken: false,
            pending_note: None,
            linked: false,
            folder,
        };
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Appends one line and its newline, unless the log is past its limit; says what the
    /// console should show for it.
    pub fn write_line(&self, line: &[u8]) -> Echo {
        let mut state = self.lock();
        let size = line.len() as u64 + 1;
        let echo = match state.limit {
            Some(limit) if state.dropped > 0 || state.written + size > limit => {
                let first = state.dropped == 0;
                state.dropped += size;
                let marker = first.then(|| limit_marker(limit));
                if let Some(marker) = &marker {
                    state.write_marker(marker);
                }
                Echo {
                    line: false,
                    note: marker,
                }
            }
            _ => {
                state.written += size;
                state.attempt(|file| {
                    file.write_all(line)?;
                    file.write_all(b"\n")
                });
                Echo {
                    line: true,
                    note: None,
                }
            }
        };
        match state.pending_note.take() {
            Some(failure) => Echo {
                note: Some(failure),
                ..echo
            },
            None => echo,
        }
    }

    /// Makes what was written visible to readers of the file (`tail -f`, the JUnit report).
    pub fn flush(&self) {
        let mut state = self.lock();
        if state.file.is_some() {
            state.attempt(|file| file.flush());
        }
    }

    /// A pump's stream ended: flushes, and makes sure the log exists even if nothing was
    /// written, so every job that ran has a log.
    pub fn finish(&self) {
        self.lock().finish();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LogState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A new file at `path`, never one shared with another name: a job's log may be a hard link
/// to the empty log until its first line, and writing through that link would fill every
/// silent job's log.
fn create_fresh(path: &std::path::Path) -> io::Result<File> {
    let create = || File::options().write(true).create_new(true).open(path);
    match create() {
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {
            std::fs::remove_file(path)?;
            create()
        }
        result => result,
    }
}

/// The line written where the log stops; the console shows it too.
fn limit_marker(limit: u64) -> String {
    format!(
        "[pipekit-ci: log truncated: the limit of {} was reached (--log-limit); further output \
         is still read and matched, but not kept]",
        format_size(limit)
    )
}

/// The log's last line, once the job's output ended: JUnit shows a log's end, so it says
/// again that the log was truncated.
fn end_marker(limit: u64, dropped: u64) -> String {
    format!(
        "[pipekit-ci: log truncated after {}; {dropped} further bytes not kept (--log-limit)]",
        format_size(limit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(dir: &std::path::Path) -> Arc<RunFolder> {
        Arc::new(RunFolder::create(dir, &["job"]).expect("run folder"))
    }

    fn read(path: &std::path::Path) -> String {
        std::fs::read_to_string(path).expect("read log")
    }

    #[test]
    fn keeps_everything_without_a_limit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = folder(dir.path());
        let path = folder.log_path("job");
        let log = LogWriter::new(path.clone(), None, folder.clone());
        for _ in 0..100 {
            let echo = log.write_line(b"0123456789");
            assert_eq!(
                echo,
                Echo {
                    line: true,
                    note: None
                }
            );
        }
        drop(log);
        assert_eq!(read(&path).len(), 1100);
        assert!(folder.write_failure().is_none());
    }

    #[test]
    fn stops_at_the_limit_with_a_marker_and_counts_what_was_dropped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = folder(dir.path());
        let path = folder.log_path("job");
        let log = LogWriter::new(path.clone(), Some(25), folder);
        assert!(log.write_line(b"0123456789").line);
        assert!(log.write_line(b"0123456789").line);
        let capped = log.write_line(b"0123456789");
        assert!(!capped.line);
        let marker = capped.note.expect("the marker is shown once");
        assert!(marker.contains("log truncated"), "{marker}");
        assert_eq!(
            log.write_line(b"abc"),
            Echo {
                line: false,
                note: None
            }
        );
        drop(log);

        let text = read(&path);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[..2], ["0123456789", "0123456789"]);
        assert_eq!(lines[2], marker);
        assert!(lines[3].contains("15 further bytes not kept"), "{text}");
    }

    #[test]
    fn a_failed_write_is_noted_once_and_the_log_given_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = folder(dir.path());
        // A directory where the log should be: every open fails, as on a full disk.
        let path = folder.log_path("job");
        std::fs::create_dir(&path).expect("directory in the way");
        let first = LogWriter::new(path.clone(), None, folder.clone());
        let echo = first.write_line(b"line");
        assert!(echo.line, "the console still shows the job's output");
        let note = echo.note.expect("the failure is shown");
        assert!(note.contains(&path.display().to_string()), "{note}");
        assert_eq!(
            first.write_line(b"more"),
            Echo {
                line: true,
                note: None
            }
        );

        let second = LogWriter::new(path.clone(), None, folder.clone());
        assert_eq!(
            second.write_line(b"other"),
            Echo {
                line: true,
                note: None
            }
        );
        let failure = folder.write_failure().expect("failure recorded");
        assert!(failure.contains(&path.display().to_string()), "{failure}");
    }

    #[test]
    fn silent_logs_share_the_empty_file_until_one_is_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let folder = Arc::new(RunFolder::create(dir.path(), &["a", "b"]).expect("run folder"));
        let (a, b) = (folder.log_path("a"), folder.log_path("b"));
        let first = LogWriter::new(a.clone(), None, folder.clone());
        let second = LogWriter::new(b.clone(), None, folder.clone());
        first.finish();
        second.finish();
        assert!(a.is_file() && b.is_file(), "every job that ran has a log");
        // The stdout pump ended silently; stderr goes on printing.
        second.write_line(b"late");
        drop((first, second));
        assert_eq!(read(&a), "");
        assert_eq!(read(&b), "late\n");
        assert_eq!(read(&folder.empty_log_path()), "");
    }
}
