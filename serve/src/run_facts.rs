//! A run as its `events.jsonl` tells it, folded: each job's place in the graph, when it
//! waited, ran and fired its signals, and why it waits now. The events are the run's own
//! account (spec 7), so the run page, the queue (page and API) and the job durations of
//! the metrics need nothing but the run folder.

use pipekit_runner::run::{EventEnvelope, EventKind, Timestamp};
use std::path::Path;

/// A run as its events tell it so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunFacts {
    pub started: Option<Timestamp>,
    /// The time of the last event read, for bars of what is still going on.
    pub last_event: Option<Timestamp>,
    pub finished: bool,
    /// In file order.
    pub jobs: Vec<JobFacts>,
    /// Lines and bytes of the events read: where the page's live stream resumes.
    pub events_read: (u64, u64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct JobFacts {
    pub name: String,
    pub depends_on: Vec<String>,
    /// `waiting` until it starts.
    pub state: &'static str,
    pub waiting_since: Option<Timestamp>,
    /// What it waits on, while it waits (`db.ready`, `+3 more`).
    pub waits_on: Vec<String>,
    pub started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    pub exit_code: Option<i32>,
    /// Why it ended as it did, in words.
    pub reason: Option<String>,
    pub signals: Vec<(String, Timestamp)>,
    /// Bytes of its packed artifacts, once packed.
    pub artifact_bytes: Option<u64>,
}

impl RunFacts {
    /// Reads `events.jsonl` of `folder` (missing: a run with no facts yet). Lines that do not
    /// parse (a last line half-written by a killed run) are passed over.
    pub fn read(folder: &Path) -> RunFacts {
        let text = std::fs::read(folder.join(pipekit_runner::run::EVENTS_FILE)).unwrap_or_default();
        let mut facts = RunFacts::default();
        let mut read = 0u64;
        for line in text.split_inclusive(|byte| *byte == b'\n') {
            if !line.ends_with(b"\n") {
                break;
            }
            read += line.len() as u64;
            facts.events_read = (facts.events_read.0 + 1, read);
            if let Ok(event) = serde_json::from_slice::<EventEnvelope>(line) {
                facts.apply(event);
            }
        }
        facts
    }

    fn apply(&mut self, envelope: EventEnvelope) {
        let at = envelope.at;
        self.last_event = Some(at);
        match envelope.event {
            EventKind::RunStarted { jobs, .. } => {
                self.started = Some(at);
                self.jobs = jobs
                    .into_iter()
                    .map(|job| JobFacts {
                        name: job.name,
                        depends_on: job.depends_on,
                        state: "waiting",
                        waiting_since: None,
                        waits_on: Vec::new(),
                        started: None,
                        finished: None,
                        exit_code: None,
                        reason: None,
                        signals: Vec::new(),
                        artifact_bytes: None,
                    })
                    .collect();
            }
            EventKind::JobWaiting { job, pending, more } => {
                if let Some(job) = self.job(&job) {
                    job.waiting_since.get_or_insert(at);
                    job.waits_on = pending;
                    if more > 0 {
                        job.waits_on.push(format!("+{more} more"));
                    }
                }
            }
            EventKind::JobStarted { job, .. } => {
                if let Some(job) = self.job(&job) {
                    job.state = "running";
                    job.started = Some(at);
                    job.waits_on.clear();
                }
            }
            EventKind::SignalFired { job, signal, .. } => {
                if let Some(job) = self.job(&job) {
                    job.signals.push((signal, at));
                }
            }
            EventKind::JobFinished {
                job,
                state,
                exit_code,
                reason,
            } => {
                if let Some(job) = self.job(&job) {
                    job.state = state.as_str();
                    job.finished = Some(at);
                    job.exit_code = exit_code;
                    job.reason = reason.map(|reason| reason.text);
                    job.waits_on.clear();
                }
            }
            EventKind::ArtifactsPacked {
                job,
                compressed_bytes,
                ..
            } => {
                if let Some(job) = self.job(&job) {
                    job.artifact_bytes = Some(compressed_bytes);
                }
            }
            EventKind::RunFinished { .. } => self.finished = true,
            _ => {}
        }
    }

    fn job(&mut self, name: &str) -> Option<&mut JobFacts> {
        self.jobs.iter_mut().find(|job| job.name == name)
    }

    /// Seconds from the run's start to `at`.
    pub fn offset(&self, at: Timestamp) -> f64 {
        self.started
            .map_or(0.0, |started| at.seconds_since(started).max(0.0))
    }
}
