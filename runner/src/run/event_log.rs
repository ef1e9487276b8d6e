//! `events.jsonl` (spec 7): every event of a run, numbered, timed, masked, one JSON object
//! a line, appended as it happens; and the [`Recorder`] fed with exactly those lines.

use super::event::{Reporter, RunEvent};
use super::event_envelope::{EventEnvelope, EventKind, JobSummary, ProblemKind, exit_code_of};
use super::event_translator::EventTranslator;
use super::line_file::LineFile;
use super::recorder::Recorder;
use super::timestamp::Timestamp;
use crate::git::CommitInfo;
use crate::report::{RunRecord, RunStatus};
use crate::secrets::{Masker, mask_json_strings, masked_json};
use crate::storage::RunFolder;
use pipekit_schema::{JobId, Pipeline};
use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// The events file's name in the run folder.
pub const EVENTS_FILE: &str = "events.jsonl";

/// What `run_started` says beyond the pipeline itself.
#[derive(Debug, Clone)]
pub struct RunHeader {
    /// The pipeline file as given on the command line.
    pub pipeline_file: String,
    /// The commit tested (absent outside a git repository).
    pub commit: Option<CommitInfo>,
}

/// Why `events.jsonl` could not be started.
#[derive(Debug, thiserror::Error)]
pub enum EventLogError {
    #[error("failed to create `{}`", path.display())]
    Create { path: PathBuf, source: io::Error },
}

/// How a run ended, as its `run_finished` says.
#[derive(Debug, Clone)]
pub struct RunEnd {
    pub status: RunStatus,
    /// The exit code spec 5 gives `status`.
    pub exit_code: u8,
    /// The record of every event, `run_finished` included.
    pub record: RunRecord,
}

/// The one place a run's events are numbered, timed and masked. Clone it to keep a handle
/// after handing it to the driver as a [`Reporter`].
#[derive(Debug, Clone)]
pub struct EventLog {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug)]
struct Inner {
    run: String,
    next_seq: u64,
    clock: Clock,
    translator: EventTranslator,
    file: LineFile,
    path: PathBuf,
    folder: Arc<RunFolder>,
    masker: Arc<Masker>,
    /// The secrets as they appear in a serialised line: most lines hold none, and are
    /// written as they are (`None`: every line is walked).
    escaped: Option<Masker>,
    recorder: Recorder,
    /// `run_problem`s so far: any of them makes the run `errored`.
    problems: usize,
    /// `run_finished` was written: it stays the last line.
    finished: bool,
}

impl EventLog {
    /// Creates `events.jsonl` in the run folder and writes `run_started` (the jobs in
    /// scope); `recorder` follows every event from there on.
    pub fn create(
        folder: Arc<RunFolder>,
        pipeline: &Pipeline,
        in_scope: impl Fn(JobId) -> bool,
        header: RunHeader,
        masker: Arc<Masker>,
        recorder: Recorder,
    ) -> Result<Self, EventLogError> {
        let path = folder.root().join(EVENTS_FILE);
        let file = LineFile::create(&path).map_err(|source| EventLogError::Create {
            path: path.clone(),
            source,
        })?;
        let jobs = pipeline
            .job_ids()
            .filter(|id| in_scope(*id))
            .map(|id| pipeline.job(id))
            .map(|job| JobSummary {
                name: job.name.clone(),
                signals: job.signals.iter().map(|s| s.name.clone()).collect(),
                depends_on: job
                    .depends_on
                    .iter()
                    .fold(Vec::new(), |mut names, condition| {
                        let name = &pipeline.job(condition.job).name;
                        if !names.contains(name) {
                            names.push(name.clone());
                        }
                        names
                    }),
            })
            .collect();
        let mut inner = Inner {
            run: folder.id().to_owned(),
            next_seq: 0,
            clock: Clock::new(),
            translator: EventTranslator::new(pipeline),
            file,
            path,
            folder,
            escaped: masker.with_json_escapes().ok(),
            masker,
            recorder,
            problems: 0,
            finished: false,
        };
        let started = inner.envelope(
            EventKind::RunStarted {
                pipeline: pipeline.name.clone(),
                pipeline_file: header.pipeline_file,
                jobs,
                commit: header.commit,
            },
            None,
        );
        inner.publish(started);
        Ok(Self {
            inner: Arc::new(Mutex::new(inner)),
        })
    }

    /// Records a problem outside the jobs (a lost engine, a full disk): the run will end
    /// `errored`.
    pub fn problem(&self, problem: ProblemKind, text: &str) {
        self.lock().problem(problem, text);
    }

    /// Ends the events with `run_finished`, for a run that writes no reports.
    pub fn finish(&self) -> RunEnd {
        let (end, _) = self.finish_with_reports(|_| Ok::<(), std::convert::Infallible>(()));
        end
    }

    /// Ends the events with `run_finished`. `write_reports` is given the record as it
    /// will stand (so `run.json` and `junit.xml` are made from the events, `run_finished`
    /// included) before that line is written: if they cannot be written, the run ends
    /// `errored` instead (a `run_problem` says why), and the returned record says so.
    pub fn finish_with_reports<E: std::fmt::Display>(
        &self,
        write_reports: impl FnOnce(&RunRecord) -> Result<(), E>,
    ) -> (RunEnd, Result<(), E>) {
        let mut inner = self.lock();
        let status = inner.status();
        let finished = inner.envelope(
            EventKind::RunFinished {
                status,
                exit_code: exit_code_of(status),
            },
            None,
        );
        let preview = inner.recorder.preview(&inner.masked(&finished).1);
        let reports = write_reports(&preview);
        let (status, finished) = match &reports {
            Ok(()) => (status, finished),
            Err(problem) => {
                inner.problem(ProblemKind::Reports, &problem.to_string());
                let status = RunStatus::Errored;
                let finished = EventKind::RunFinished {
                    status,
                    exit_code: exit_code_of(status),
                };
                (status, inner.envelope(finished, None))
            }
        };
        inner.publish(finished);
        inner.finished = true;
        let end = RunEnd {
            status,
            exit_code: exit_code_of(status),
            record: inner.recorder.snapshot(),
        };
        (end, reports)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Reporter for EventLog {
    // The driver's `at` is left aside: every event, the driver's or not, is timed by the
    // one clock here, so the times of a run never go backwards.
    fn on_event(&mut self, _at: Duration, event: &RunEvent) {
        let mut inner = self.lock();
        let at = inner.clock.now();
        if let Some(kind) = inner.translator.translate(event, at) {
            let envelope = inner.envelope(kind, Some(at));
            inner.publish(envelope);
        }
    }
}

impl Inner {
    fn status(&self) -> RunStatus {
        if self.problems > 0 {
            RunStatus::Errored
        } else if self.translator.interrupted() {
            RunStatus::Interrupted
        } else if self.recorder.all_jobs_passed() {
            RunStatus::Passed
        } else {
            RunStatus::Failed
        }
    }

    fn problem(&mut self, problem: ProblemKind, text: &str) {
        self.problems += 1;
        let envelope = self.envelope(
            EventKind::RunProblem {
                problem,
                text: text.to_owned(),
            },
            None,
        );
        self.publish(envelope);
    }

    /// The next event, numbered but not yet published.
    fn envelope(&mut self, event: EventKind, at: Option<Timestamp>) -> EventEnvelope {
        EventEnvelope {
            seq: self.next_seq,
            at: at.unwrap_or_else(|| self.clock.now()),
            run: self.run.clone(),
            event,
        }
    }

    /// The line to write and the event to fold, both masked. Should masking leave an event
    /// that no longer reads back (a secret inside a word of the format), the line is still
    /// masked everywhere and the record is masked again when it is written.
    fn masked(&self, envelope: &EventEnvelope) -> (serde_json::Result<Vec<u8>>, EventEnvelope) {
        if self.masker.is_empty() {
            return (serde_json::to_vec(envelope), envelope.clone());
        }
        if let Some(escaped) = &self.escaped
            && let Ok(line) = serde_json::to_string(envelope)
            && matches!(escaped.mask(&line), std::borrow::Cow::Borrowed(_))
        {
            // No string of it holds a secret: a string that did would show it here, escaped
            // as JSON escapes it.
            return (Ok(line.into_bytes()), envelope.clone());
        }
        match masked_json(envelope, &self.masker) {
            Ok(masked) => (serde_json::to_vec(&masked), masked),
            Err(_) => {
                let line = serde_json::to_value(envelope).and_then(|mut value| {
                    mask_json_strings(&mut value, &self.masker, false);
                    serde_json::to_vec(&value)
                });
                (line, envelope.clone())
            }
        }
    }

    /// Writes the event as the next line and lets the recorder follow it.
    fn publish(&mut self, envelope: EventEnvelope) {
        if self.finished || envelope.seq != self.next_seq {
            return;
        }
        let (line, masked) = self.masked(&envelope);
        // Our events always serialise; were one not to, it is left out whole, number and
        // all, rather than leaving a gap.
        let Ok(mut line) = line else { return };
        line.push(b'\n');
        if let Err(error) = self.file.append(&line) {
            // Like a log that cannot be written: the run ends errored (exit 3), and the
            // line is written later if space comes back.
            self.folder.note_write_failure(&self.path, &error);
        }
        self.recorder.follow(&masked);
        self.next_seq += 1;
    }
}

/// Wall-clock time that never goes backwards: the time the log was created plus the
/// monotonic time since, so a clock step during a run does not reorder its events.
#[derive(Debug)]
struct Clock {
    origin: SystemTime,
    started: Instant,
    last: Timestamp,
}

impl Clock {
    fn new() -> Self {
        Self {
            origin: SystemTime::now(),
            started: Instant::now(),
            last: Timestamp::default(),
        }
    }

    fn now(&mut self) -> Timestamp {
        let now = Timestamp::from_system_time(self.origin + self.started.elapsed());
        self.last = self.last.max(now);
        self.last
    }
}

#[cfg(test)]
mod tests;
