//! The end of a run: a summary table and, when it failed, what went wrong first.

use crate::report::{JobState, RunRecord};
use std::fmt::Write as _;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// How many log lines of a failed job the diagnosis shows.
const TAIL_LINES: usize = 10;

/// One row per job: name, state, time, reason.
pub fn summary_table(record: &RunRecord) -> String {
    let width = record
        .jobs
        .iter()
        .map(|job| job.name.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut out = format!("{:<width$}  {:<9}  {:>8}  note\n", "job", "result", "time");
    for job in &record.jobs {
        let time = job
            .duration_seconds
            .map(|s| format!("{s:.2}s"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<width$}  {:<9}  {:>8}  {}",
            job.name,
            state_word(job.state),
            time,
            job.reason.as_deref().unwrap_or("")
        );
    }
    out
}

/// For a failed run: the jobs that failed on their own (the root causes), the last lines
/// of their logs, and the jobs they kept from running.
pub fn diagnosis(record: &RunRecord, run_dir: &Path) -> Option<String> {
    let failed: Vec<_> = record
        .jobs
        .iter()
        .filter(|j| j.state == JobState::Failed)
        .collect();
    if failed.is_empty() {
        return None;
    }
    let mut out = String::new();
    for job in &failed {
        let reason = job.reason.as_deref().unwrap_or("failed");
        let _ = writeln!(out, "job `{}` failed: {reason}", job.name);
        let tail = log_tail(&run_dir.join(&job.log), TAIL_LINES);
        if !tail.is_empty() {
            let _ = writeln!(out, "  last lines of {}:", job.log);
            for line in tail {
                let _ = writeln!(out, "  | {line}");
            }
        }
    }
    let blocked: Vec<&str> = record
        .jobs
        .iter()
        .filter(|j| j.state == JobState::Skipped)
        .map(|j| j.name.as_str())
        .collect();
    if !blocked.is_empty() {
        let _ = writeln!(out, "not run because of it: {}", blocked.join(", "));
    }
    Some(out)
}

fn state_word(state: JobState) -> &'static str {
    match state {
        JobState::Waiting => "waiting",
        JobState::Running => "running",
        JobState::Passed => "passed",
        JobState::Failed => "FAILED",
        JobState::Skipped => "skipped",
        JobState::Cancelled => "cancelled",
    }
}

/// The last `count` lines of a log, reading only its end.
fn log_tail(path: &Path, count: usize) -> Vec<String> {
    const WINDOW: u64 = 16 * 1024;
    let Ok(mut file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    if file
        .seek(SeekFrom::Start(length.saturating_sub(WINDOW)))
        .is_err()
    {
        return Vec::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..]
        .iter()
        .map(|l| l.to_string())
        .collect()
}

#[cfg(test)]
mod tests;
