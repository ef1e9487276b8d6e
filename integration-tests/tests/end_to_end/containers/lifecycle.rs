//! How container runs end and what they leave: interrupts, timeouts, `--keep-running` and
//! `down`, `gc` after a killed run, two runs side by side, and no engine at all.

use super::support::{RUN, wait_for_log};
use crate::common::{
    ContainerTest, JobState, Project, RunJson, RunStatus, container_labels, docker_objects_of_run,
    run_id_of, running_containers_of_run, test_image, unique_marker,
};
use nix::sys::signal::{Signal, kill};
use std::time::{Duration, Instant};

#[test]
fn sigint_during_a_container_job_exits_130_and_removes_the_runs_containers() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = test.marker();
    let project = test.project(&format!(
        r#"
services:
  busy:
    image: {{image}}
    command: echo started; sleep {marker}
  after:
    image: {{image}}
    depends_on: [busy.ExitCode(0)]
    command: echo after
"#
    ));
    let started = project.spawn(&["run", "--no-progress"]);
    wait_for_log(&project, &started, "busy", "started");
    let run_id = project.run_id();
    let during = docker_objects_of_run(&run_id);
    // `after` waits for `busy` to exit, so the two never meet: no network of its own.
    assert_eq!(
        (during.containers.len(), during.networks.len()),
        (1, 0),
        "the running job's container, on the default network: {during:?}"
    );

    let interrupted_at = Instant::now();
    kill(started.pid(), Signal::SIGINT).expect("cannot signal pipekit-ci");
    let finished = started.wait(Duration::from_secs(20));
    let stop_time = interrupted_at.elapsed();

    finished.assert_code(130);
    assert!(
        stop_time < Duration::from_secs(8),
        "stopping took {stop_time:?}"
    );
    test.assert_run_left_nothing(&run_id);
    let run = project.run_json();
    assert_eq!(run.status, RunStatus::Interrupted);
    run.assert_states(&[("busy", JobState::Cancelled), ("after", JobState::Skipped)]);
    run.assert_reason_contains("busy", &["interrupted"]);
}

#[test]
fn job_timeout_stops_a_container_that_ignores_sigterm() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = test.marker();
    let project = test.project(&format!(
        r#"
services:
  stubborn:
    image: {{image}}
    timeout: 1
    command: trap "" TERM; echo armed; sleep {marker}
  after:
    image: {{image}}
    depends_on: [stubborn.ExitCode(0)]
    command: echo after
"#
    ));

    let finished = project.run(&RUN);

    finished.assert_code(1);
    assert!(
        finished.elapsed < Duration::from_secs(12),
        "the run took {:?}, as if it waited for the sleep",
        finished.elapsed
    );
    let run = project.run_json();
    run.assert_states(&[("stubborn", JobState::Failed), ("after", JobState::Skipped)]);
    run.assert_reason_contains("stubborn", &["timed out"]);
    run.assert_reason_contains("after", &["stubborn.ExitCode(0)"]);
    assert!(project.log("stubborn").contains("armed"));
    // SIGTERM was ignored: it took the 1 s timeout plus the 1 s grace, then a kill.
    let duration = run.job("stubborn").duration();
    assert!(
        (1.8..8.0).contains(&duration),
        "stubborn ran for {duration}s"
    );
}

/// Needs no engine: that is the point.
#[test]
fn unreachable_docker_exits_3_pointing_at_the_local_executor_which_runs_on_the_host() {
    let socket = format!(
        "unix:///nonexistent-{}.sock",
        unique_marker().replace('.', "-")
    );
    let unreachable = [("DOCKER_HOST", socket.as_str())];
    let project = Project::new(
        r#"
services:
  containerised:
    image: pipekit-test/busybox
    command: echo "on the host, in $PIPEKIT_WORKSPACE" > "$PIPEKIT_WORKSPACE/ran-here"
"#,
    );

    let refused = project.run_with_env(&["run", "--no-progress"], &unreachable);

    refused.assert_code(3);
    assert!(
        refused.stderr.contains("--executor local"),
        "stderr:\n{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains("panicked"),
        "stderr:\n{}",
        refused.stderr
    );
    assert!(
        project.run_dirs().is_empty(),
        "a refused run left a run folder"
    );
    assert!(!project.path().join("ran-here").exists());
    for command in [&["down"][..], &["gc"][..]] {
        let finished = project.run_with_env(command, &unreachable);
        finished.assert_code(3);
    }

    let local = project.run_with_env(
        &["run", "--no-progress", "--executor", "local"],
        &unreachable,
    );

    local.assert_code(0);
    project
        .run_json()
        .assert_states(&[("containerised", JobState::Passed)]);
    let written = std::fs::read_to_string(project.path().join("ran-here"))
        .expect("the job wrote on the host");
    let workspace = written
        .trim_end()
        .strip_prefix("on the host, in ")
        .unwrap_or_else(|| panic!("ran-here says {written:?}"));
    assert_eq!(
        std::fs::canonicalize(workspace).ok(),
        std::fs::canonicalize(project.path()).ok(),
        "PIPEKIT_WORKSPACE is the project on the host, not /workspace"
    );
}

#[test]
fn keep_running_leaves_the_detached_container_up_until_down() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = test.marker();
    let project = test.project(&format!(
        r#"
services:
  db:
    image: {{image}}
    detach: true
    signals:
      ready: Grep(stdout, "db up")
    command: echo "db up"; exec sleep {marker}
  client:
    image: {{image}}
    depends_on: [db.ready]
    command: echo "client done"
"#
    ));

    let finished = project.run(&["run", "--no-progress", "--keep-running"]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("db", JobState::Passed), ("client", JobState::Passed)]);
    let run_id = project.run_id();
    let db = format!("pipekit-{run_id}-db");
    assert_eq!(
        running_containers_of_run(&run_id),
        [db.as_str()],
        "only the detached job is left up"
    );
    let left = docker_objects_of_run(&run_id);
    assert_eq!(left.containers, [db.as_str()], "the client was removed");
    assert_eq!(
        left.networks,
        [format!("pipekit-{run_id}")],
        "its network stays"
    );
    let labels = container_labels(&db);
    assert_eq!(labels["pipekit.keep"], "true");
    assert_eq!(labels["pipekit.job"], "db");
    let pipeline_file = std::fs::canonicalize(project.path())
        .expect("project dir")
        .join("pipekit.yml");
    assert_eq!(
        labels["pipekit.pipeline-file"],
        pipeline_file.display().to_string()
    );

    // Another project's `down` does not touch it.
    let other = Project::new("services:\n  a:\n    command: 'true'\n");
    other.run(&["down", "-f", "pipekit.yml"]).assert_code(0);
    assert_eq!(running_containers_of_run(&run_id), [db.as_str()]);

    let down = project.run(&["down", "-f", "pipekit.yml"]);

    down.assert_code(0);
    assert!(
        down.stderr.contains("removed 1 container"),
        "stderr:\n{}",
        down.stderr
    );
    test.assert_run_left_nothing(&run_id);
}

#[test]
fn gc_removes_the_containers_of_a_killed_run_and_spares_a_live_one() {
    let Some(test) = ContainerTest::alone() else {
        return;
    };
    let pipeline = |marker: &str| {
        format!(
            r#"
services:
  busy:
    image: {image}
    command: echo started; sleep {marker}
  # Up at the same time as `busy`: the run gets a network of its own, for gc to find.
  buddy:
    image: {image}
    command: echo up; sleep {marker}
"#,
            image = test_image()
        )
    };
    let killed = test.adopt(Project::new(&pipeline(&test.marker())));
    let live = test.adopt(Project::new(&pipeline(&test.marker())));

    // Both up before the kill: a run that starts reaps orphans itself, before `gc` could.
    let doomed = killed.spawn(&["run", "--no-progress"]);
    let running = live.spawn(&["run", "--no-progress"]);
    wait_for_log(&killed, &doomed, "busy", "started");
    wait_for_log(&live, &running, "busy", "started");
    wait_for_log(&killed, &doomed, "buddy", "up");
    wait_for_log(&live, &running, "buddy", "up");
    let (killed_run, live_run) = (killed.run_id(), live.run_id());
    kill(doomed.pid(), Signal::SIGKILL).expect("cannot kill pipekit-ci");
    let _ = doomed.wait(Duration::from_secs(10));
    let orphans = docker_objects_of_run(&killed_run);
    assert_eq!(
        (orphans.containers.len(), orphans.networks.len()),
        (2, 1),
        "kill -9 leaves the containers and network for gc: {orphans:?}"
    );

    let gc = killed.run(&["gc"]);

    let live_objects = docker_objects_of_run(&live_run);
    let _ = kill(running.pid(), Signal::SIGINT);
    let live_finished = running.wait(Duration::from_secs(20));
    gc.assert_code(0);
    assert!(gc.stderr.contains("gc: removed"), "stderr:\n{}", gc.stderr);
    test.assert_run_left_nothing(&killed_run);
    assert_eq!(
        (live_objects.containers.len(), live_objects.networks.len()),
        (2, 1),
        "gc touched the run of a live pipekit-ci: {live_objects:?}"
    );
    live_finished.assert_code(130);
    test.assert_run_left_nothing(&live_run);
}

#[test]
fn two_runs_of_one_pipeline_at_once_pass_with_their_own_folders_and_containers() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    // The client of each run waits until both runs have a client (the source tree is
    // shared by both), so the two runs overlap or fail; each must reach its own server.
    let project = test.project(
        r#"
services:
  server:
    image: {image}
    detach: true
    signals:
      ready: Grep(stdout, "serving"):20
    command: |
      nc -ll -p 7000 -e echo "server of $PIPEKIT_RUN_ID" &
      until nc 127.0.0.1 7000 </dev/null >/dev/null 2>&1; do sleep 0.1; done
      echo serving
      wait
  client:
    image: {image}
    depends_on: [server.ready]
    command: |
      set -e
      touch "/workspace/arrived-$PIPEKIT_RUN_ID"
      arrived() { ls /workspace | grep -c '^arrived-'; }
      for i in $(seq 150); do [ "$(arrived)" -ge 2 ] && break; sleep 0.1; done
      echo "clients arrived: $(arrived)"
      reply=$(nc server 7000 </dev/null)
      echo "reply: [$reply]"
"#,
    );

    let first = project.spawn(&["run", "--no-progress"]);
    let second = project.spawn(&["run", "--no-progress"]);
    let first = first.wait(Duration::from_secs(40));
    let second = second.wait(Duration::from_secs(40));

    first.assert_code(0);
    second.assert_code(0);
    let run_dirs = project.run_dirs();
    assert_eq!(run_dirs.len(), 2, "one folder per run: {run_dirs:?}");
    for run_dir in &run_dirs {
        let run_id = run_id_of(run_dir);
        let run = RunJson::read(run_dir);
        assert_eq!(run.run_id, run_id.as_str());
        run.assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
        let log = std::fs::read_to_string(run_dir.join("logs/client.log")).expect("client log");
        let lines: Vec<&str> = log.lines().collect();
        assert!(
            lines.contains(&"clients arrived: 2"),
            "the runs did not overlap:\n{log}"
        );
        let expected = format!("reply: [server of {run_id}]");
        assert!(
            lines.contains(&expected.as_str()),
            "the client of {run_id} did not reach its own server:\n{log}"
        );
        test.assert_run_left_nothing(&run_id);
    }
}
