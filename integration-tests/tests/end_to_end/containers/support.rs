//! What the container tests share: the command line they run and readings of `run.json`
//! and the logs.

use crate::common::{Project, RunJson, Started, eventually};
use nix::sys::signal::{Signal, kill};
use std::time::Duration;

/// `pipekit-ci run --no-progress` with a short grace, so that stopping a container that
/// ignores SIGTERM does not take the default ten seconds.
pub const RUN: [&str; 4] = ["run", "--no-progress", "--stop-grace", "1"];

/// When the job ended, in seconds after the run's start.
pub fn ended_at(run: &RunJson, job: &str) -> f64 {
    run.job(job).ended_after()
}

/// When the job's `index`th signal fired, in seconds after the run's start.
pub fn signal_fired_at(run: &RunJson, job: &str, index: usize) -> f64 {
    run.job(job).started_after() + run.job(job).signal_fired_after(index)
}

/// Waits until `logs/<job>.log` of a run of `project` holds `text`; fails the test (after
/// interrupting the run) if it never does.
pub fn wait_for_log(project: &Project, started: &Started, job: &str, text: &str) {
    let seen = eventually(Duration::from_secs(20), || {
        project.run_dirs().iter().any(|dir| {
            std::fs::read_to_string(dir.join("logs").join(format!("{job}.log")))
                .is_ok_and(|log| log.contains(text))
        })
    });
    if !seen {
        let _ = kill(started.pid(), Signal::SIGINT);
        panic!(
            "`{job}` never printed `{text}`; stderr so far:\n{}",
            started.stderr_so_far()
        );
    }
}
