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
        Self {
            pipeline,
            width,
            bars,
        }
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
        let Some(bars) = &mut self.bars else {
            let name = format!("{:<width$}", self.name(job), width = self.width);
            self.line(format!("==> {name} {text}"));
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
    fn on_event(&mut self, at: Duration, event: &RunEvent) {
        match event {
            RunEvent::RunStarted { run_dir, .. } => {
                self.line(format!("==> run folder {}", run_dir.display()));
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
                    self.line(format!(
                        "{:<width$} | {text}",
                        self.name(*job),
                        width = self.width
                    ));
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
