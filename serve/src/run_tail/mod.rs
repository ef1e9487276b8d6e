//! Follows a run folder as it grows: the events of `events.jsonl` (spec 7) and the lines of
//! each job's log, each batch with the [`Cursor`] after it. The files are the only source,
//! so a finished run replays exactly as a live one streams, and a follower resumes from a
//! cursor whatever happened to the server in between.

mod cursor;
mod line_reader;
#[cfg(test)]
mod tests;

pub use cursor::{BadCursor, Cursor, FilePlace};
pub use line_reader::PlaceError;

use line_reader::LineReader;
use pipekit_runner::run::EVENTS_FILE;
use std::path::{Path, PathBuf};

/// Lines of one job that share one message, at most.
const LINES_PER_MESSAGE: usize = 500;

/// Something read from the run folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailItem {
    /// One line of `events.jsonl`, as written.
    Event(String),
    /// Lines of a job's log; `first` is the number of the first of them (from 1).
    Lines {
        job: String,
        first: u64,
        texts: Vec<String>,
    },
}

/// Whose lines a follower reads besides the run's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lines {
    All,
    Job(String),
    /// Only the events (a page that redraws on each of them).
    None,
}

/// An item and where a follower is once it has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TailMessage {
    pub item: TailItem,
    pub cursor: Cursor,
}

/// Why a run folder cannot be followed from a cursor.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("the run has no job `{0}`")]
    UnknownJob(String),
    #[error(transparent)]
    Place(#[from] PlaceError),
}

/// A follower of one run folder.
#[derive(Debug)]
pub struct RunTail {
    folder: PathBuf,
    events: LineReader,
    /// The jobs' logs, in file order, once `run_started` named the jobs.
    logs: Option<Vec<(String, LineReader)>>,
    lines: Lines,
    /// The place in each log the follower came with, until the jobs are known.
    resumed_logs: std::collections::BTreeMap<String, FilePlace>,
    /// `run_finished` was read.
    finished: bool,
}

impl RunTail {
    /// Follows `folder` from `cursor` (`Cursor::default()`: from the start).
    pub fn new(folder: &Path, cursor: Cursor, lines: Lines) -> RunTail {
        RunTail {
            events: LineReader::new(folder.join(EVENTS_FILE), cursor.events),
            folder: folder.to_owned(),
            logs: None,
            lines,
            resumed_logs: cursor.logs,
            finished: false,
        }
    }

    /// Whether `run_finished` was read: every line the run wrote is in its logs.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// What the run folder gained since the last read: events first, then the lines of
    /// each job, in file order. `run_over` (the store says the run ended, e.g. killed with
    /// its server) also takes last lines that never got a newline, as `run_finished` does.
    pub fn read(&mut self, run_over: bool) -> Result<Vec<TailMessage>, TailError> {
        let mut messages = Vec::new();
        if self.logs.is_none() && self.events.place().lines > 0 {
            // Resumed after `run_started`: the jobs are in the file's first line.
            let first = LineReader::new(self.events_path(), FilePlace::default()).read(false)?;
            if let Some(line) = first.first() {
                self.learn_jobs(&line.text)?;
            }
        }
        let mut place = self.cursor();
        loop {
            let lines = self.events.read(run_over)?;
            if lines.is_empty() {
                break;
            }
            for line in lines {
                if self.logs.is_none() {
                    self.learn_jobs(&line.text)?;
                }
                let text = String::from_utf8_lossy(&line.text).into_owned();
                if is_run_finished(&text) {
                    self.finished = true;
                }
                place.events.lines += 1;
                place.events.offset += line.size;
                messages.push(TailMessage {
                    item: TailItem::Event(text),
                    cursor: place.clone(),
                });
            }
        }
        let writers_done = run_over || self.finished;
        for (job, reader) in self.logs.iter_mut().flatten() {
            loop {
                let lines = reader.read(writers_done)?;
                if lines.is_empty() {
                    break;
                }
                for chunk in lines.chunks(LINES_PER_MESSAGE) {
                    let log = place.logs.entry(job.clone()).or_default();
                    let first = log.lines + 1;
                    log.lines += chunk.len() as u64;
                    log.offset += chunk.iter().map(|line| line.size).sum::<u64>();
                    let texts = chunk
                        .iter()
                        .map(|line| String::from_utf8_lossy(&line.text).into_owned())
                        .collect();
                    messages.push(TailMessage {
                        item: TailItem::Lines {
                            job: job.clone(),
                            first,
                            texts,
                        },
                        cursor: place.clone(),
                    });
                }
                // A live log gets one budget a read, so a busy job cannot starve the others;
                // an ended one is read to its end.
                if !writers_done {
                    break;
                }
            }
        }
        Ok(messages)
    }

    /// Where the follower is after everything read so far.
    pub fn cursor(&self) -> Cursor {
        let mut logs = self.resumed_logs.clone();
        for (job, reader) in self.logs.iter().flatten() {
            logs.insert(job.clone(), reader.place());
        }
        Cursor {
            events: self.events.place(),
            logs,
        }
    }

    fn events_path(&self) -> PathBuf {
        self.folder.join(EVENTS_FILE)
    }

    /// Reads the jobs from `run_started`, placing each log where the follower left it.
    fn learn_jobs(&mut self, first_event: &[u8]) -> Result<(), TailError> {
        let jobs = jobs_of_run_started(first_event);
        let only = match &self.lines {
            Lines::Job(job) => Some(job),
            Lines::All | Lines::None => None,
        };
        if let Some(unknown) = self
            .resumed_logs
            .keys()
            .chain(only)
            .find(|job| !jobs.contains(job))
        {
            return Err(TailError::UnknownJob(unknown.clone()));
        }
        let logs = jobs
            .into_iter()
            .filter(|job| match &self.lines {
                Lines::All => true,
                Lines::Job(only) => only == job,
                Lines::None => false,
            })
            .map(|job| {
                let place = self.resumed_logs.remove(&job).unwrap_or_default();
                let path = self.folder.join("logs").join(format!("{job}.log"));
                (job, LineReader::new(path, place))
            })
            .collect();
        self.logs = Some(logs);
        Ok(())
    }
}

fn is_run_finished(event: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(event)
        .is_ok_and(|value| value.get("kind").and_then(|kind| kind.as_str()) == Some("run_finished"))
}

/// The job names `run_started` lists (none if the line is something else).
fn jobs_of_run_started(event: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(event) else {
        return Vec::new();
    };
    value
        .get("jobs")
        .and_then(|jobs| jobs.as_array())
        .into_iter()
        .flatten()
        .filter_map(|job| job.get("name").and_then(|name| name.as_str()))
        .map(str::to_owned)
        .collect()
}
