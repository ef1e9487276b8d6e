//! What a person sees during a run: live bars on a terminal, plain lines in CI logs.

use crate::run::{Reporter, RunEvent};
use crate::scheduler::Outcome;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pipekit_schema::Pipeline;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// Prints a run to stderr: one live line per job on a terminal, `job | line` otherwise.
pub struct Console {
    pipeline: Arc<Pipeline>,
    width: usize,
    bars: Option<Bars>,
}

struct Bars {
    multi: MultiProgress,
    per_job: Vec<Option<ProgressBar>>,
}

impl Console {
    /// `live`: draw bars (stderr is a terminal and progress was not turned off).
    pub fn new(pipeline: Arc<Pipeline>, live: bool) -> Self {
        let width = pipeline.jobs.iter().map(|job| job.name.len()).max().unwrap_or(0);
        let bars = live.then(|| Bars {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            per_job: vec![None; pipeline.jobs.len()],
        });
        Self { pipeline, width, bars }
    }

    fn name(&self, job: pipekit_schema::JobId) -> &str {
        &self.pipeline.job(job).name
    }

    /// Above the bars when live, a plain line otherwise.
    fn line(&self, text: String) {
        match &self.bars {
            Some(bars) => {
                let _ = bars.multi.println(text);
            }
            None => {
                let mut stderr = std::io::stderr().lock();
                let _ = stderr.write_all(format!("{text}\n").as_bytes());
            }
        }
    }

    fn status(&mut self, job: pipekit_schema::JobId, text: String, running: bool) {
        let name = format!("{:<width$}", self.name(job), width = self.width);
        let Some(bars) = &mut self.bars else {
            self.line(format!("==> {name} {text}"));
            return;
        };
        let bar = bars.per_job[job.0].get_or_insert_with(|| {
            let bar = bars.multi.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(name);
            bar
        });
        if running {
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix} {wide_msg} {elapsed}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        bar.set_message(text);
    }

    fn finish(&mut self, job: pipekit_schema::JobId, text: String) {
        self.status(job, text, false);
        if let Some(bars) = &self.bars
            && let Some(bar) = &bars.per_job[job.0]
        {
            bar.set_style(
                ProgressStyle::with_template("  {prefix} {wide_msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.finish();
        }
    }
}

impl Reporter for Console {
    fn on_event(&mut self, at: Duration, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { run_dir, .. } => {
                self.line(format!("==> run folder {}", run_dir.display()));
            }
            RunEvent::JobWaiting { job, on } => {
                self.status(*job, format!("waiting on {}", on.join(", ")), false);
            }
            RunEvent::JobStarted { job } => self.status(*job, "running".into(), true),
            RunEvent::Output { job, line, .. } => {
                let name = self.name(*job);
                self.line(format!("{name:<width$} | {line}", width = self.width));
            }
            RunEvent::SignalFired { job, signal } => {
                if self.bars.is_none() {
                    self.status(*job, format!("signal `{signal}` fired"), false);
                }
            }
            RunEvent::JobStopping { job, reason } => {
                self.status(*job, format!("stopping: {reason}"), false);
            }
            RunEvent::ArtifactsPacked { job, files, bytes, compressed_bytes } => {
                let text = format!(
                    "packed {files} artifact file{} ({} -> {})",
                    if *files == 1 { "" } else { "s" },
                    human_bytes(*bytes),
                    human_bytes(*compressed_bytes)
                );
                if self.bars.is_some() {
                    self.line(format!("{:<width$} | {text}", self.name(*job), width = self.width));
                } else {
                    self.status(*job, text, false);
                }
            }
            RunEvent::JobFinished { job, outcome, .. } => {
                let _ = at;
                let text = match outcome {
                    Outcome::Passed => "passed".to_string(),
                    Outcome::Failed(reason) => format!("FAILED: {reason}"),
                    Outcome::Skipped(reason) => format!("skipped: {reason}"),
                    Outcome::Cancelled(reason) => format!("cancelled: {reason}"),
                };
                self.finish(*job, text);
            }
            RunEvent::RunFinished { .. } => {
                if let Some(bars) = &self.bars {
                    let _ = bars.multi.clear();
                }
            }
        }
    }
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}
