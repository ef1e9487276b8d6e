//! Ctrl-C: the run stops, reports, and leaves no process behind.

use crate::common::{
    JobState, Project, RunJson, RunStatus, eventually, kill_processes, parse_junit, pipeline_suite,
    processes_with, unique_marker,
};
use nix::sys::signal::{Signal, kill};
use quick_junit::TestCaseStatus;
use std::time::{Duration, Instant};

#[test]
fn sigint_stops_the_run_with_130_and_leaves_no_process_behind() {
    stopping_signal_stops_the_run_with_130_and_leaves_no_process_behind(Signal::SIGINT);
}

/// Jobs run in their own process groups, so a closed terminal reaches only pipekit-ci: it
/// used to die of the SIGHUP and orphan every job.
#[test]
fn sighup_stops_the_jobs_instead_of_orphaning_them() {
    stopping_signal_stops_the_run_with_130_and_leaves_no_process_behind(Signal::SIGHUP);
}

fn stopping_signal_stops_the_run_with_130_and_leaves_no_process_behind(signal: Signal) {
    let marker = unique_marker();
    let project = Project::new(&format!(
        r#"
services:
  busy:
    command: sh -c 'sleep {marker} & sleep {marker} & echo started; wait'
  after:
    depends_on: [busy.ExitCode(0)]
    command: echo after
"#
    ));
    let started = project.spawn(&["run", "--no-progress"]);

    let log_says_started = || {
        project.run_dirs().iter().any(|dir| {
            std::fs::read_to_string(dir.join("logs/busy.log"))
                .is_ok_and(|log| log.contains("started"))
        })
    };
    let running = eventually(Duration::from_secs(15), log_says_started);
    if !running {
        let stderr = started.stderr_so_far();
        let _ = kill(started.pid(), Signal::SIGINT);
        let _ = started.wait(Duration::from_secs(20));
        panic!("the job never reported it started; stderr:\n{stderr}");
    }
    // `echo started` can run before the two forked shells have exec'd `sleep`.
    let sleep_count = || {
        processes_with(&marker)
            .iter()
            .filter(|(_, command)| command.starts_with("sleep "))
            .count()
    };
    let both_sleeping = eventually(Duration::from_secs(5), || sleep_count() == 2);
    assert!(
        both_sleeping,
        "the marker finds the job's two sleeps: {:?}",
        processes_with(&marker)
    );

    let interrupted_at = Instant::now();
    kill(started.pid(), signal).expect("cannot signal pipekit-ci");
    let finished = started.wait(Duration::from_secs(15));
    let stop_time = interrupted_at.elapsed();

    let leftovers = if eventually(Duration::from_secs(2), || {
        processes_with(&marker).is_empty()
    }) {
        Vec::new()
    } else {
        processes_with(&marker)
    };
    kill_processes(&leftovers);
    finished.assert_code(130);
    assert!(
        stop_time < Duration::from_secs(5),
        "stopping after {signal} took {stop_time:?}"
    );
    assert!(
        leftovers.is_empty(),
        "processes left behind after {signal}: {leftovers:?}"
    );

    let run = RunJson::read(&project.run_dir());
    assert_eq!(run.status, RunStatus::Interrupted);
    run.assert_states(&[("busy", JobState::Cancelled), ("after", JobState::Skipped)]);
    let report = parse_junit(&project.run_dir().join("junit.xml"));
    let suite = pipeline_suite(&report, "pipekit");
    assert_eq!(suite.test_cases.len(), 2);
    for case in &suite.test_cases {
        assert!(
            matches!(case.status, TestCaseStatus::Skipped { .. }),
            "`{}` should be reported as not run: {:?}",
            case.name.as_str(),
            case.status
        );
    }
}
