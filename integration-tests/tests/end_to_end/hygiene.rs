//! Process and container hygiene: nothing a job started outlives it, a run whose pipekit-ci
//! was killed outright is cleaned up later, a lost engine ends the run, and a container
//! killed for memory says so.

use crate::common::{
    JobState, LeftoverSweeper, Project, RunJson, RunStatus, Started, docker_objects_of_run,
    engine_alone_or_skip, engine_or_skip, eventually, kill_processes, processes_with,
    python3_available, running_containers_of_run, test_image, unique_marker,
};
use nix::sys::signal::{Signal, kill};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Kills, when dropped, whatever process still carries the marker: a failed assertion must
/// not leave a `sleep 3000` behind.
struct MarkedProcesses(String);

impl Drop for MarkedProcesses {
    fn drop(&mut self) {
        kill_processes(&processes_with(&self.0));
    }
}

#[track_caller]
fn assert_no_process_with(marker: &str, when: &str) {
    let gone = eventually(Duration::from_secs(5), || processes_with(marker).is_empty());
    assert!(gone, "{when}: still running: {:?}", processes_with(marker));
}

fn wait_for_log(project: &Project, started: &Started, job: &str, text: &str) {
    let seen = eventually(Duration::from_secs(30), || {
        project.run_dirs().iter().any(|dir| {
            std::fs::read_to_string(dir.join("logs").join(format!("{job}.log")))
                .is_ok_and(|log| log.contains(text))
        })
    });
    if !seen {
        let _ = kill(started.pid(), Signal::SIGKILL);
        panic!(
            "`{job}` never printed `{text}`; stderr so far:\n{}",
            started.stderr_so_far()
        );
    }
}

#[test]
fn background_and_setsid_grandchildren_end_with_their_job() {
    let marker = unique_marker();
    let _cleanup = MarkedProcesses(marker.clone());
    // `setsid` leaves the job's process group (and session), which a process-group kill
    // alone never reaches; its output goes elsewhere so the run could not wait on its pipes.
    // `check` starts once `spawner` ended and looks for the grandchildren in every command
    // line, in the shell itself (a `grep` would find its own arguments).
    let project = Project::new(&format!(
        r#"
services:
  spawner:
    command: sh -c 'sleep {marker} & setsid sleep {marker} >/dev/null 2>&1 & echo spawned'
  check:
    depends_on: [spawner.ExitCode(0)]
    command: >-
      sh -c 'm=sleep; m="$m {marker}"; for f in /proc/[0-9]*/cmdline; do
      case "$(tr "\0" " " < $f 2>/dev/null)" in *"$m"*) echo "left: $f"; exit 1;; esac; done'
"#
    ));

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("spawner", JobState::Passed), ("check", JobState::Passed)]);
    assert!(
        finished.elapsed < Duration::from_secs(8),
        "the grandchildren ended on SIGTERM, without the 10 s grace: {:?}",
        finished.elapsed
    );
    assert_no_process_with(&marker, "after the run");
}

#[test]
fn orphans_that_end_on_their_own_are_reaped_while_their_job_runs() {
    // `(sleep 0.1 &)` orphans the sleep at once: it re-parents to pipekit-ci (a subreaper)
    // and must not stay a zombie there until the job ends. The job counts the zombies
    // among its parent's (pipekit-ci's) children.
    let project = Project::new(
        r#"
services:
  orphans:
    # Exec form, so that the shell's parent is pipekit-ci itself.
    command:
      - sh
      - -c
      - >-
        for i in 1 2 3 4 5; do (sleep 0.1 &); done; sleep 1.5; z=0;
        for c in $(cat /proc/$PPID/task/*/children); do
        grep -q "^State:.*Z" /proc/$c/status 2>/dev/null && z=$((z+1)); done;
        echo "zombies: $z"; [ $z -eq 0 ]
"#,
    );

    let finished = project.run_pipeline(&[]);

    assert!(
        project.log("orphans").contains("zombies: 0"),
        "log:\n{}",
        project.log("orphans")
    );
    finished.assert_code(0);
}

#[test]
fn a_detached_jobs_daemon_works_while_the_job_runs_and_goes_when_it_is_stopped() {
    let marker = unique_marker();
    let _cleanup = MarkedProcesses(marker.clone());
    // The daemon leaves the session and keeps touching a file; `check` proves it still
    // works while `server` counts as running, then `server` is stopped with it.
    let project = Project::new(&format!(
        r#"
services:
  server:
    detach: true
    command: >-
      sh -c 'setsid sh -c "while :; do touch $PIPEKIT_SHARED/server/beat; sleep 0.05; done; : {marker}"
      >/dev/null 2>&1 & echo up; sleep {marker}'
    signals:
      up: Grep(stdout, "up")
  check:
    depends_on: [server.up]
    command: sh -c 'sleep 0.3; rm -f $PIPEKIT_SHARED/server/beat; sleep 0.5; test -f $PIPEKIT_SHARED/server/beat'
"#
    ));

    let finished = project.run_pipeline(&["--stop-grace", "2"]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("server", JobState::Passed), ("check", JobState::Passed)]);
    assert_no_process_with(&marker, "after the detached job was stopped");
}

#[test]
fn a_killed_run_is_found_by_the_next_run_which_kills_its_processes_and_marks_it_interrupted() {
    let marker = unique_marker();
    let _cleanup = MarkedProcesses(marker.clone());
    let project = Project::new(&format!(
        r#"
services:
  lingering:
    command: sh -c 'setsid sleep {marker} >/dev/null 2>&1 & echo started; sleep {marker}'
  quick:
    command: echo quick
"#
    ));
    let doomed = project.spawn(&["run", "--no-progress", "--only", "lingering"]);
    wait_for_log(&project, &doomed, "lingering", "started");
    let dead_run = project.run_dir();
    kill(doomed.pid(), Signal::SIGKILL).expect("cannot kill pipekit-ci");
    let _ = doomed.wait(Duration::from_secs(10));
    assert!(
        !processes_with(&marker).is_empty(),
        "kill -9 leaves the job's processes behind for the next run to find"
    );
    assert_eq!(RunJson::read(&dead_run).status, RunStatus::Running);
    assert!(
        dead_run.join(".space-reserve").exists(),
        "a live run holds its reserve"
    );

    let next = project.run(&["run", "--no-progress", "--only", "quick"]);

    next.assert_code(0);
    assert!(
        next.stderr
            .contains("left behind by a pipekit-ci that died"),
        "stderr:\n{}",
        next.stderr
    );
    assert_no_process_with(&marker, "after the next run");
    let record = RunJson::read(&dead_run);
    assert_eq!(record.status, RunStatus::Interrupted);
    assert_eq!(record.state("lingering"), JobState::Cancelled);
    record.assert_reason_contains("lingering", &["died"]);
    assert!(!dead_run.join("owner.json").exists());
    assert!(
        !dead_run.join(".space-reserve").exists(),
        "the dead run's space reserve is given back"
    );
}

#[test]
fn gc_after_kill_9_reaps_host_processes_and_containers_and_marks_the_run_interrupted() {
    let Some(_engine) = engine_alone_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let _cleanup = MarkedProcesses(marker.clone());
    let project = Project::new(&format!(
        r#"
services:
  host:
    command: sh -c 'setsid sleep {marker} >/dev/null 2>&1 & echo started; sleep {marker}'
  box:
    image: {image}
    command: sh -c 'echo up; sleep {marker}'
"#,
        image = test_image()
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);
    let doomed = project.spawn(&["run", "--no-progress"]);
    wait_for_log(&project, &doomed, "host", "started");
    wait_for_log(&project, &doomed, "box", "up");
    let run_dir = project.run_dir();
    let run_id = project.run_id();
    kill(doomed.pid(), Signal::SIGKILL).expect("cannot kill pipekit-ci");
    let _ = doomed.wait(Duration::from_secs(10));
    assert!(!processes_with(&marker).is_empty(), "nothing to reap");
    assert!(!docker_objects_of_run(&run_id).containers.is_empty());

    let gc = project.run(&["gc"]);

    gc.assert_code(0);
    assert!(
        gc.stderr.contains("gc: 1 dead run"),
        "stderr:\n{}",
        gc.stderr
    );
    assert_no_process_with(&marker, "after gc");
    let gone = eventually(Duration::from_secs(5), || {
        docker_objects_of_run(&run_id).is_empty()
    });
    assert!(gone, "left: {:?}", docker_objects_of_run(&run_id));
    let record = RunJson::read(&run_dir);
    assert_eq!(record.status, RunStatus::Interrupted);
    assert_eq!(record.state("host"), JobState::Cancelled);
    assert_eq!(record.state("box"), JobState::Cancelled);
}

#[test]
fn two_runs_of_one_host_pipeline_at_once_keep_their_own_folders_and_reports() {
    // Each job waits until the other run's job has started too, so the runs overlap.
    let project = Project::new(
        r#"
services:
  meet:
    command: sh -c 'touch "meet-$PIPEKIT_RUN_ID"; for i in $(seq 100); do [ $(ls meet-* | wc -l) -ge 2 ] && exit 0; sleep 0.05; done; exit 1'
"#,
    );
    let first = project.spawn(&["run", "--no-progress"]);
    let second = project.spawn(&["run", "--no-progress"]);
    let (first, second) = (
        first.wait(Duration::from_secs(30)),
        second.wait(Duration::from_secs(30)),
    );

    first.assert_code(0);
    second.assert_code(0);
    let dirs = project.run_dirs();
    assert_eq!(dirs.len(), 2, "{dirs:?}");
    for dir in &dirs {
        assert_eq!(RunJson::read(dir).status, RunStatus::Passed);
        assert!(dir.join("junit.xml").is_file());
        assert!(!dir.join("owner.json").exists());
    }
}

/// A Unix socket that forwards every connection to the real engine, until `cut`.
struct EngineProxy {
    path: PathBuf,
    connections: Arc<Mutex<Vec<UnixStream>>>,
}

impl EngineProxy {
    fn start(dir: &Path) -> EngineProxy {
        let path = dir.join("engine.sock");
        let listener = UnixListener::bind(&path).expect("cannot bind the proxy socket");
        let connections: Arc<Mutex<Vec<UnixStream>>> = Arc::default();
        let kept = connections.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(engine) = UnixStream::connect("/var/run/docker.sock") else {
                    return;
                };
                let pair = [&client, &engine].map(|s| s.try_clone());
                let ([Ok(client_copy), Ok(engine_copy)], Ok(client_read), Ok(engine_read)) =
                    (pair, client.try_clone(), engine.try_clone())
                else {
                    return;
                };
                kept.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend([client_copy, engine_copy]);
                forward(client_read, engine);
                forward(engine_read, client);
            }
        });
        EngineProxy { path, connections }
    }

    fn docker_host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// The engine is gone: open connections break and new ones are refused.
    fn cut(&self) {
        let _ = std::fs::remove_file(&self.path);
        for stream in self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn forward(mut from: UnixStream, mut to: UnixStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

#[test]
fn a_lost_engine_ends_the_run_with_an_environment_error_not_a_hang() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let project = Project::new(&format!(
        r#"
services:
  box:
    image: {image}
    command: sh -c 'echo up; sleep {marker}'
  # Would run for an hour: the lost engine stops the whole run.
  waiter:
    command: sleep {marker}
"#,
        image = test_image()
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);
    let _cleanup = MarkedProcesses(marker.clone());
    let sockets = tempfile::tempdir().expect("temp dir");
    let proxy = EngineProxy::start(sockets.path());
    let host = proxy.docker_host();
    let started = project.spawn_with_env(&["run", "--no-progress"], &[("DOCKER_HOST", &host)]);
    wait_for_log(&project, &started, "box", "up");

    proxy.cut();
    let cut_at = std::time::Instant::now();
    let finished = started.wait(Duration::from_secs(60));
    eprintln!(
        "the run ended {:?} after the engine was cut",
        cut_at.elapsed()
    );

    finished.assert_code(3);
    assert!(
        finished.stderr.contains("lost the container engine"),
        "stderr:\n{}",
        finished.stderr
    );
    let record = project.run_json();
    assert_eq!(record.status, RunStatus::Errored);
    record.assert_reason_contains("box", &["lost the container engine"]);
    assert_eq!(record.state("waiter"), JobState::Cancelled);
    assert!(project.run_dir().join("junit.xml").is_file());
}

#[test]
fn a_container_killed_for_memory_reports_out_of_memory() {
    // Alone: with other containers starting and stopping meanwhile, Debian's Docker 20.10
    // sometimes loses the OOM event with the container's shim (exit 137, `OOMKilled`
    // false; seen twice in CI on 2026-12-04, never alone).
    let Some(_engine) = engine_alone_or_skip() else {
        return;
    };
    // dd holds one block of `bs` bytes in memory and fills it: 64 MiB against 16.
    let project = Project::new(&format!(
        r#"
services:
  hungry:
    image: {image}
    mem_limit: 16m
    command: dd if=/dev/zero of=/dev/null bs=64M count=1
"#,
        image = test_image()
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    let expected = "killed: out of memory (mem_limit 16m)";
    assert!(
        finished.stderr.contains(expected),
        "stderr:\n{}",
        finished.stderr
    );
    let record = project.run_json();
    assert_eq!(record.state("hungry"), JobState::Failed);
    record.assert_reason_contains("hungry", &[expected]);
    assert_eq!(record.job("hungry").exit_code, Some(137));
    let junit = std::fs::read_to_string(project.run_dir().join("junit.xml")).expect("junit");
    assert!(junit.contains(expected), "{junit}");
}

#[test]
fn kept_containers_survive_the_sweep_of_the_runs_host_processes() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    // A container's processes carry the run's PIPEKIT_RUN_ID too; the end-of-run sweep of
    // host processes must not reach into the container `--keep-running` keeps.
    let marker = unique_marker();
    let project = Project::new(&format!(
        r#"
services:
  server:
    image: {image}
    detach: true
    command: sh -c 'echo up; sleep {marker}'
    signals:
      up: Grep(stdout, "up")
  client:
    depends_on: [server.up]
    command: echo done
"#,
        image = test_image()
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&["--keep-running"]);

    finished.assert_code(0);
    let run_id = project.run_id();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        running_containers_of_run(&run_id).len(),
        1,
        "the kept container is up"
    );
    project.run(&["down"]).assert_code(0);
}

/// Stopping a job sends its processes one SIGTERM, not one through the group and another
/// through the tag: a second SIGTERM means "stop now" to many programs (pipekit-ci too).
/// Python runs its handler at each delivery, where a shell's trap would merge them.
#[test]
fn a_stopped_job_gets_one_sigterm_not_two() {
    if !python3_available() {
        eprintln!("skipped: python3 is not installed");
        return;
    }
    let project = Project::new(
        r#"
services:
  patient:
    timeout: 1
    command:
      - python3
      - -c
      - |
        import signal, time
        count = [0]
        def count_term(*_):
            count[0] += 1
            print("got TERM", count[0], flush=True)
        signal.signal(signal.SIGTERM, count_term)
        end = time.time() + 4
        while time.time() < end:
            time.sleep(0.01)
"#,
    );

    let finished = project.run(&["run", "--no-progress", "--stop-grace", "2"]);

    finished.assert_code(1);
    let log = project.log("patient");
    assert!(log.contains("got TERM 1"), "no SIGTERM arrived:\n{log}");
    assert!(!log.contains("got TERM 2"), "SIGTERM arrived twice:\n{log}");
}

/// A descendant that left the job's group and shed its tag (`env -i`, or a daemon rewriting
/// its environment for its process title) is still an orphan of pipekit-ci, the subreaper,
/// and goes when the run ends.
#[test]
fn a_descendant_without_the_tag_still_goes_when_the_run_ends() {
    let marker = unique_marker();
    let _cleanup = MarkedProcesses(marker.clone());
    let project = Project::new(&format!(
        r#"
services:
  sly:
    command: |
      (setsid env -i sh -c 'sleep 1000; echo {marker}' > /dev/null 2>&1 < /dev/null &)
      sleep 0.2
"#
    ));

    let finished = project.run(&["run", "--no-progress"]);

    finished.assert_code(0);
    assert_no_process_with(&marker, "after the run");
}

/// The engine gone before a container job starts (not while one runs): still the run's
/// problem, exit 3, not a failure of that job.
#[test]
fn an_engine_lost_before_a_container_starts_is_an_environment_error() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let project = Project::new(&format!(
        r#"
services:
  build:
    command: sh -c 'echo building; while [ ! -e go ]; do sleep 0.05; done'
  test:
    image: {image}
    command: echo never
    depends_on: [build.ExitCode(0)]
"#,
        image = test_image()
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);
    let sockets = tempfile::tempdir().expect("temp dir");
    let proxy = EngineProxy::start(sockets.path());
    let host = proxy.docker_host();
    let started = project.spawn_with_env(&["run", "--no-progress"], &[("DOCKER_HOST", &host)]);
    wait_for_log(&project, &started, "build", "building");

    proxy.cut();
    project.write("go", "");
    let finished = started.wait(Duration::from_secs(60));

    finished.assert_code(3);
    assert!(
        finished.stderr.contains("lost the container engine"),
        "stderr:\n{}",
        finished.stderr
    );
    let record = project.run_json();
    assert_eq!(record.status, RunStatus::Errored);
    assert_eq!(record.state("build"), JobState::Passed);
}
