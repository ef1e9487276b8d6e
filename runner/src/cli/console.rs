//! What a person sees during a run: live bars on a terminal, plain lines in CI logs.

use crate::run::{Reporter, RunEvent};
use crate::scheduler::Outcome;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipekit_schema::Pipeline;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

/// Past this much buffered output, write it out without waiting for `flush`.
const FLUSH_BYTES: usize = 64 * 1024;

/// Prints a run to stderr: one live line per job on a terminal, `job | line` otherwise.
pub struct Console {
    pipeline: Arc<Pipeline>,
    width: usize,
    bars: Option<Bars>,
    /// Lines not written yet; written out on `flush` or once large.
    pending: String,
    /// Per job: whether its waiting line was printed once already.
    told_waiting: Vec<bool>,
}

struct Bars {
    multi: MultiProgress,
    per_job: Vec<Option<ProgressBar>>,
}

impl Console {
    /// `live`: draw bars (stderr is a terminal and progress was not turned off).
    pub fn new(pipeline: Arc<Pipeline>, live: bool) -> Self {
        let width = pipeline
            .jobs
            .iter()
            .map(|job| job.name.len())
            .max()
            .unwrap_or(0);
        let bars = live.then(|| Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            per_job: vec![None; pipeline.jobs.len()],
        });
        let pipeline_jobs = pipeline.jobs.len();
        Self {
            pipeline,
            width,
            bars,
            pending: String::new(),
            told_waiting: vec![false; pipeline_jobs],
        }
    }

    fn name(&self, job: pipekit_schema::JobId) -> &str {
        &self.pipeline.job(job).name
    }

    /// Above the bars when live, a plain line otherwise; buffered until `flush`.
    fn line(&mut self, text: &str) {
        self.pending.push_str(text);
        self.pending.push('\n');
        if self.pending.len() >= FLUSH_BYTES {
            self.write_pending();
        }
    }

    fn write_pending(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        match &self.bars {
            // One redraw of the bars per batch rather than per line.
            Some(bars) => {
                let _ = bars.multi.println(self.pending.trim_end_matches('\n'));
            }
            None => {
                let _ = std::io::stderr().lock().write_all(self.pending.as_bytes());
            }
        }
        self.pending.clear();
    }

    fn status(&mut self, job: pipekit_schema::JobId, text: String, running: bool) {
        let Some(bars) = &mut self.bars else {
            let name = format!("{:<width$}", self.name(job), width = self.width);
            self.line(&format!("==> {name} {text}"));
            return;
        };
        if let Some(bar) = &bars.per_job[job.0] {
            if running {
                bar.set_style(style("{spinner} {prefix} {msg} {elapsed}"));
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            bar.set_message(text);
        }
    }

    fn finish(&mut self, job: pipekit_schema::JobId, text: String) {
        self.status(job, text, false);
        if let Some(bars) = &self.bars
            && let Some(bar) = &bars.per_job[job.0]
        {
            bar.set_style(style("  {prefix} {msg}"));
            bar.finish();
        }
    }
}

impl Reporter for Console {
    // Progress bars show the live count; a log says it once (see `JobWaiting` below).
    fn wants_every_wait(&self) -> bool {
        self.bars.is_some()
    }

    fn on_event(&mut self, at: Duration, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { run_dir, .. } => {
                self.line(&format!("==> run folder {}", run_dir.display()));
                // One line per job, in file order, from the start: the screen does not jump.
                let names: Vec<String> = self
                    .pipeline
                    .jobs
                    .iter()
                    .map(|job| format!("{:<width$}", job.name, width = self.width))
                    .collect();
                if let Some(bars) = &mut self.bars {
                    for (index, name) in names.into_iter().enumerate() {
                        let bar = bars.multi.add(ProgressBar::new_spinner());
                        bar.set_style(style("{spinner} {prefix} {msg}"));
                        bar.set_prefix(name);
                        bars.per_job[index] = Some(bar);
                    }
                }
            }
            RunEvent::JobWaiting { job, on, more } => {
                // In a log, a wide fan-in would repeat a line per finished dependency: say it
                // once, then again only once what is left can be named in full.
                let first = !self.told_waiting[job.0];
                if self.bars.is_some() || first || *more == 0 {
                    self.told_waiting[job.0] = true;
                    let mut text = format!("waiting on {}", on.join(", "));
                    if *more > 0 {
                        text.push_str(&format!(" and {more} more"));
                    }
                    self.status(*job, text, false);
                }
            }
            RunEvent::JobPreparing { job, text } => {
                if self.bars.is_some() {
                    self.status(*job, text.clone(), false);
                } else {
                    let line = format!("{:<width$} | {text}", self.name(*job), width = self.width);
                    self.line(&line);
                }
            }
            RunEvent::JobStarted { job } => self.status(*job, "running".into(), true),
            RunEvent::JobLeftRunning { job } => {
                self.status(*job, "left running (--keep-running)".into(), false);
            }
            RunEvent::Output { job, line, .. } => {
                // The hot path of a chatty job: straight into the buffer, no temporary.
                let name = &self.pipeline.job(*job).name;
                let _ = writeln!(self.pending, "{name:<width$} | {line}", width = self.width);
                if self.pending.len() >= FLUSH_BYTES {
                    self.write_pending();
                }
            }
            RunEvent::SignalFired { job, signal } => {
                if self.bars.is_none() {
                    self.status(*job, format!("signal `{signal}` fired"), false);
                }
            }
            RunEvent::JobStopping { job, reason } => {
                self.status(*job, format!("stopping: {reason}"), false);
            }
            RunEvent::ArtifactsPacked {
                job,
                files,
                bytes,
                compressed_bytes,
            } => {
                let text = format!(
                    "packed {files} artifact file{} ({} -> {})",
                    if *files == 1 { "" } else { "s" },
                    human_bytes(*bytes),
                    human_bytes(*compressed_bytes)
                );
                if self.bars.is_some() {
                    let line = format!("{:<width$} | {text}", self.name(*job), width = self.width);
                    self.line(&line);
                } else {
                    self.status(*job, text, false);
                }
            }
            RunEvent::ArtifactsFailed { job, reason } => {
                let line = format!(
                    "{:<width$} | FAILED: {reason}",
                    self.name(*job),
                    width = self.width
                );
                self.line(&line);
            }
            RunEvent::JobFinished { job, outcome, .. } => {
                let _ = at;
                let text = match outcome {
                    Outcome::Passed => "passed".to_string(),
                    Outcome::Reused(reason) => format!("passed: {reason}"),
                    Outcome::Failed(reason) => format!("FAILED: {reason}"),
                    Outcome::Skipped(reason) => format!("skipped: {reason}"),
                    Outcome::Cancelled(reason) => format!("cancelled: {reason}"),
                };
                self.finish(*job, text);
            }
            // Merged into junit.xml; nothing to show while the run goes on.
            RunEvent::JunitFiles { .. } => {}
            RunEvent::RunFinished { .. } => {
                self.write_pending();
                if let Some(bars) = &self.bars {
                    let _ = bars.multi.clear();
                }
            }
        }
    }

    fn flush(&mut self) {
        self.write_pending();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests;
