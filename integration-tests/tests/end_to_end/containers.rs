//! Jobs in containers: the Docker executor against a real engine, seen from outside — exit
//! codes, `run.json`, logs, the run folder, and what the engine holds afterwards (found with
//! the `docker` command by pipekit-ci's labels).
//!
//! Every test but the one on an unreachable engine needs Docker and the local test image
//! (`scripts/docker-up.sh`); without them they fail, unless `PIPEKIT_SKIP_DOCKER_TESTS=1`.

use crate::common::{
    LeftoverSweeper, Project, RunJson, Started, container_labels, docker, docker_objects_of_run,
    engine_alone_or_skip, engine_or_skip, eventually, run_id_of, running_containers_of_run,
    test_image, unique_marker, workspace_root,
};
use nix::sys::signal::{Signal, kill};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

/// `pipekit-ci run --no-progress` with a short grace, so that stopping a container that
/// ignores SIGTERM does not take the default ten seconds.
const RUN: [&str; 4] = ["run", "--no-progress", "--stop-grace", "1"];

/// A project whose `pipekit.yml` is `pipeline` with `{image}` replaced by the test image.
fn container_project(pipeline: &str) -> Project {
    Project::new(&pipeline.replace("{image}", &test_image()))
}

/// Fails the test unless the run left no container and no network behind (allowing the
/// engine a moment to finish removing them).
#[track_caller]
fn assert_nothing_left(run_id: &str) {
    let gone = eventually(Duration::from_secs(5), || {
        docker_objects_of_run(run_id).is_empty()
    });
    assert!(
        gone,
        "run {run_id} left behind {:?}",
        docker_objects_of_run(run_id)
    );
}

/// When the job ended, in seconds after the run's start.
fn ended_at(run: &RunJson, job: &str) -> f64 {
    run.seconds(job, "started_after_seconds") + run.seconds(job, "duration_seconds")
}

/// When the job's `index`th signal fired, in seconds after the run's start.
fn signal_fired_at(run: &RunJson, job: &str, index: usize) -> f64 {
    let after_start = run.job(job)["signals"][index]["fired_after_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("signal {index} of `{job}` never fired: {}", run.job(job)));
    run.seconds(job, "started_after_seconds") + after_start
}

/// Waits until `logs/<job>.log` of a run of `project` holds `text`; fails the test (after
/// interrupting the run) if it never does.
fn wait_for_log(project: &Project, started: &Started, job: &str, text: &str) {
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

#[test]
fn three_tier_example_runs_in_containers_and_reaches_the_database_by_name() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let example = workspace_root().join("pipelines/three-tier-containers.yml");
    let text = std::fs::read_to_string(&example)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", example.display()));
    assert_eq!(
        text.matches("image: pipekit-test/busybox\n").count(),
        3,
        "every tier of the example runs the test image"
    );
    let project = Project::new(&text.replace(
        "image: pipekit-test/busybox\n",
        &format!("image: {}\n", test_image()),
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project.assert_run_folder(&["password-generator", "database", "web"]);
    let run = project.run_json();
    assert_eq!(run.status(), "passed");
    run.assert_states(&[
        ("password-generator", "passed"),
        ("database", "passed"),
        ("web", "passed"),
    ]);

    // The password went through shared storage, and the web tier got the database's answer
    // to that same password over the run's network, by the database's job name.
    let handed_to_web =
        std::fs::read_to_string(project.run_dir().join("shared/web/.env")).expect("web/.env");
    let password = handed_to_web
        .trim_end()
        .strip_prefix("PASSWORD=")
        .unwrap_or_else(|| panic!("web/.env is {handed_to_web:?}"));
    assert!(!password.is_empty());
    let handed_to_database =
        std::fs::read_to_string(project.run_dir().join("shared/database/.env"))
            .expect("database/.env");
    assert_eq!(handed_to_database, handed_to_web);
    let web_log = project.log("web");
    assert!(
        web_log
            .lines()
            .any(|line| line == format!("database said: authenticated with {password}")),
        "web log:\n{web_log}"
    );
    assert!(
        web_log.contains("web tier logged in to the database"),
        "web log:\n{web_log}"
    );
    assert!(
        project.log("database").contains("Database is ready"),
        "database log:\n{}",
        project.log("database")
    );

    // Gated on both conditions; the database stopped only after web ended.
    let web_start = run.seconds("web", "started_after_seconds");
    let ready_at = signal_fired_at(&run, "database", 0);
    assert!(
        web_start + 1e-6 >= ready_at,
        "web started at {web_start}s, before database.ready fired at {ready_at}s"
    );
    let generated_at = ended_at(&run, "password-generator");
    assert!(
        web_start + 1e-6 >= generated_at,
        "web started at {web_start}s, before password-generator ended at {generated_at}s"
    );
    assert!(
        run.seconds("database", "started_after_seconds") + 1e-6 >= generated_at,
        "database started before its password was there"
    );
    assert!(
        ended_at(&run, "database") + 1e-6 >= ended_at(&run, "web"),
        "database ended before web"
    );
    // Stopped by pipekit-ci (its container exits 143), not ended on its own: no exit code,
    // as for a stopped host process.
    assert_eq!(run.job("database")["exit_code"], serde_json::Value::Null);
    assert_eq!(run.job("web")["exit_code"], 0);
    assert_nothing_left(&project.run_id());
}

#[test]
fn host_and_container_jobs_share_files_through_shared_storage_both_ways() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let project = container_project(&format!(
        r#"
services:
  ask:
    command: |
      echo "question {marker}" > "$PIPEKIT_SHARED/ask/question.txt"
      echo "host sees PIPEKIT_LEAK_CHECK=[$PIPEKIT_LEAK_CHECK]"
  answer:
    image: {{image}}
    depends_on: [ask.ExitCode(0)]
    command: |
      set -e
      echo "PIPEKIT_SHARED=[$PIPEKIT_SHARED] PIPEKIT_WORKSPACE=[$PIPEKIT_WORKSPACE] pwd=[$(pwd)]"
      echo "container sees PIPEKIT_LEAK_CHECK=[${{PIPEKIT_LEAK_CHECK-unset}}]"
      question=$(cat /pipekit/ask/question.txt)
      mkdir -p "$PIPEKIT_SHARED/answer/deep/folder"
      echo "reply to $question" > "$PIPEKIT_SHARED/answer/deep/folder/reply.txt"
      echo "written in /workspace" > /workspace/from-the-container.txt
  check:
    depends_on: [answer.ExitCode(0)]
    command: echo "host read [$(cat "$PIPEKIT_SHARED/answer/deep/folder/reply.txt")]"
"#
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_with_env(&RUN, &[("PIPEKIT_LEAK_CHECK", &marker)]);

    finished.assert_code(0);
    project.assert_run_folder(&["ask", "answer", "check"]);
    project.run_json().assert_states(&[
        ("ask", "passed"),
        ("answer", "passed"),
        ("check", "passed"),
    ]);
    let answer = project.log("answer");
    for expected in [
        "PIPEKIT_SHARED=[/pipekit] PIPEKIT_WORKSPACE=[/workspace] pwd=[/workspace]",
        // pipekit-ci's own environment stays on the host.
        "container sees PIPEKIT_LEAK_CHECK=[unset]",
    ] {
        assert!(
            answer.lines().any(|line| line == expected),
            "answer's log lacks `{expected}`:\n{answer}"
        );
    }
    assert!(
        project
            .log("ask")
            .contains(&format!("host sees PIPEKIT_LEAK_CHECK=[{marker}]")),
        "the control failed: the host job does not see the variable"
    );
    assert!(
        project
            .log("check")
            .contains(&format!("host read [reply to question {marker}]")),
        "check's log:\n{}",
        project.log("check")
    );
    let in_workspace = std::fs::read_to_string(project.path().join("from-the-container.txt"))
        .expect("the container wrote into the source tree");
    assert_eq!(in_workspace, "written in /workspace\n");

    // What the container wrote belongs to whoever ran pipekit-ci, who can delete it.
    let run_dir = project.run_dir();
    let reply = run_dir.join("shared/answer/deep/folder/reply.txt");
    let owner = std::fs::metadata(&reply).expect("reply.txt").uid();
    assert_eq!(
        owner,
        nix::unistd::geteuid().as_raw(),
        "{} belongs to uid {owner}",
        reply.display()
    );
    let run_id = run_id_of(&run_dir);
    assert_nothing_left(&run_id);
    std::fs::remove_dir_all(&run_dir)
        .unwrap_or_else(|error| panic!("cannot remove {}: {error}", run_dir.display()));
    assert!(!run_dir.exists());
}

#[test]
fn env_file_in_shared_storage_is_injected_into_a_container() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let project = container_project(&format!(
        r#"
services:
  writer:
    command: |
      cat > "$PIPEKIT_SHARED/greeter/.env" <<'ENV'
      # handed over by the host
      GREETING="hello {marker}"

      PLAIN=plain-value
      ENV
  greeter:
    image: {{image}}
    depends_on: [writer.ExitCode(0)]
    command: |
      echo "GREETING=[$GREETING]"
      echo "PLAIN=[$PLAIN]"
      echo "PIPEKIT_JOB=[$PIPEKIT_JOB] CI=[$CI]"
"#
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("writer", "passed"), ("greeter", "passed")]);
    let log = project.log("greeter");
    for expected in [
        format!("GREETING=[hello {marker}]"),
        "PLAIN=[plain-value]".to_string(),
        "PIPEKIT_JOB=[greeter] CI=[true]".to_string(),
    ] {
        assert!(
            log.lines().any(|line| line == expected),
            "greeter's log lacks `{expected}`:\n{log}"
        );
    }
    assert_nothing_left(&project.run_id());
}

#[test]
fn grep_signals_on_a_containers_stdout_and_stderr_gate_the_dependent() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    // Each line first appears on the other stream, where it must not count.
    let project = container_project(
        r#"
services:
  server:
    image: {image}
    command: |
      echo "stderr-ready"
      echo "stdout-ready" >&2
      sleep 0.6
      echo "stdout-ready"
      sleep 0.6
      echo "stderr-ready" >&2
      sleep 3
    signals:
      out: Grep(stdout, "^stdout-ready$"):20
      err: Grep(stderr, "^stderr-ready$"):20
  client:
    image: {image}
    depends_on: [server.err]
    command: echo "client connected"
"#,
    );
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("server", "passed"), ("client", "passed")]);
    let signal = |index: usize| {
        run.job("server")["signals"][index]["fired_after_seconds"]
            .as_f64()
            .unwrap_or_else(|| panic!("signal {index} never fired: {}", run.job("server")))
    };
    let (out, err) = (signal(0), signal(1));
    assert!(
        out >= 0.5,
        "`out` fired at {out}s, on the stderr line printed at once"
    );
    assert!(
        err >= 1.1,
        "`err` fired at {err}s, before its line reached stderr"
    );
    assert!(err > out, "`err` ({err}s) fired before `out` ({out}s)");
    let client_start = run.seconds("client", "started_after_seconds");
    assert!(
        client_start + 1e-6 >= signal_fired_at(&run, "server", 1),
        "client started at {client_start}s, before server.err fired"
    );
    assert!(
        client_start < ended_at(&run, "server"),
        "client started at {client_start}s, only after the server ended"
    );
    assert!(project.log("client").contains("client connected"));
    let server = project.log("server");
    assert!(
        server.lines().any(|line| line == "stdout-ready")
            && server.lines().any(|line| line == "stderr-ready"),
        "server's log holds both streams:\n{server}"
    );
    assert_nothing_left(&project.run_id());
}

#[test]
fn port_signal_on_a_container_gates_a_client_that_reaches_it_by_job_name() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let project = container_project(&format!(
        r#"
services:
  server:
    image: {{image}}
    detach: true
    command: |
      sleep 1
      echo "listening"
      exec nc -ll -p 8080 -e echo "pong {marker}"
    signals:
      listening: Port(8080):20
  client:
    image: {{image}}
    depends_on: [server.listening]
    command: |
      set -e
      reply=$(nc server 8080 </dev/null)
      echo "client got [$reply]"
"#
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("server", "passed"), ("client", "passed")]);
    let fired = run.job("server")["signals"][0]["fired_after_seconds"]
        .as_f64()
        .expect("listening fired");
    assert!(
        fired >= 0.9,
        "`listening` fired at {fired}s, before anything listened"
    );
    let client_start = run.seconds("client", "started_after_seconds");
    assert!(
        client_start + 1e-6 >= signal_fired_at(&run, "server", 0),
        "client started at {client_start}s, before server.listening fired"
    );
    let client = project.log("client");
    assert!(
        client.contains(&format!("client got [pong {marker}]")),
        "client log:\n{client}"
    );
    assert_nothing_left(&project.run_id());
}

/// Issue 10: the watcher knocked on the container's port, so a server's first connection
/// was pipekit-ci's. The container's own socket table is read instead.
#[test]
fn port_signal_on_a_container_fires_without_connecting_to_it() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let project = container_project(
        r#"
services:
  server:
    image: {image}
    detach: true
    command: |
      sleep 0.3
      n=0
      while true; do
        n=$((n + 1))
        nc -l -p 8080 -e echo "accepted $n"
      done
    signals:
      listening: Port(8080):20
  client:
    image: {image}
    depends_on: [server.listening]
    command: |
      set -e
      sleep 0.2
      reply=$(nc server 8080 </dev/null)
      echo "client got [$reply]"
"#,
    );
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("server", "passed"), ("client", "passed")]);
    let client = project.log("client");
    assert!(
        client.contains("client got [accepted 1]"),
        "client log:\n{client}"
    );
    assert_nothing_left(&project.run_id());
}

/// README: "`ports` are published as in Compose". In Compose a bare container port
/// (`- "8080"`) is published on an ephemeral host port.
#[test]
fn ports_without_a_host_port_are_published_on_an_ephemeral_host_port_as_in_compose() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let project = container_project(&format!(
        r#"
services:
  server:
    image: {{image}}
    ports: ["8080"]
    command: |
      nc -ll -p 8080 -e echo "pong {marker}" &
      echo "started"
      sleep 4
"#
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);
    let started = project.spawn(&RUN);
    wait_for_log(&project, &started, "server", "started");
    let container = format!("pipekit-{}-server", project.run_id());

    let published = docker(&["port", &container]);
    let address = published
        .lines()
        .filter_map(|line| line.strip_prefix("8080/tcp -> 0.0.0.0:"))
        .map(|port| format!("127.0.0.1:{port}"))
        .next();
    let mut reply = None;
    if let Some(address) = &address {
        eventually(Duration::from_secs(3), || {
            let Ok(mut stream) = std::net::TcpStream::connect(address) else {
                return false;
            };
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stream, &mut text);
            reply = Some(text);
            true
        });
    }
    let finished = started.wait(Duration::from_secs(20));

    assert_eq!(
        reply,
        Some(format!("pong {marker}\n")),
        "8080 is not published on a host port; `docker port` says {published:?}"
    );
    finished.assert_code(0);
    assert_nothing_left(&project.run_id());
}

#[test]
fn missing_image_fails_its_job_naming_the_image_and_skips_the_dependent() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    // From a registry that refuses at once (nothing listens on port 1), so the pull fails
    // fast and the same way whether or not this machine reaches Docker Hub.
    let image = format!(
        "localhost:1/pipekit-test/missing-{}:none",
        unique_marker().replace('.', "-")
    );
    let project = Project::new(&format!(
        r#"
services:
  app:
    image: {image}
    command: echo "app ran"
  after:
    depends_on: [app.ExitCode(0)]
    command: touch after-ran
"#
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    assert!(
        finished.stderr.contains(&image),
        "the image is not named to the user:\n{}",
        finished.stderr
    );
    let run = project.run_json();
    assert_eq!(run.status(), "failed");
    run.assert_states(&[("app", "failed"), ("after", "skipped")]);
    run.assert_reason_contains("app", &[&image]);
    run.assert_reason_contains("after", &["app.ExitCode(0)"]);
    assert!(!project.path().join("after-ran").exists());
    assert_nothing_left(&project.run_id());
}

#[test]
fn built_image_runs_its_own_command_with_the_build_arg() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker().replace('.', "-");
    let tag = format!("pipekit-test/built-{marker}:latest");
    let project = Project::new(&format!(
        r#"
services:
  app:
    build:
      context: app
      args:
        GREETING: hello-{marker}
    image: {tag}
"#
    ));
    project.write(
        "app/Dockerfile",
        &format!(
            r#"FROM {image}
ARG GREETING=unset
RUN echo "greeting=$GREETING" > /greeting
CMD ["sh", "-c", "cat /greeting; echo CMD of the built image ran"]
"#,
            image = test_image()
        ),
    );
    let _sweeper = LeftoverSweeper::for_project(&project).and_image(&tag);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project.run_json().assert_states(&[("app", "passed")]);
    let log = project.log("app");
    for expected in [
        format!("greeting=hello-{marker}"),
        "CMD of the built image ran".to_string(),
    ] {
        assert!(
            log.lines().any(|line| line == expected),
            "app's log lacks `{expected}`:\n{log}"
        );
    }
    assert_nothing_left(&project.run_id());
    // Built under the name `image:` gives, and nothing else of the build is left to remove.
    docker(&["rmi", &tag]);
    let gone = std::process::Command::new("docker")
        .args(["image", "inspect", &tag])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("docker runs");
    assert!(!gone.success(), "{tag} is still there after docker rmi");
}

#[test]
fn sigint_during_a_container_job_exits_130_and_removes_the_runs_containers() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let project = container_project(&format!(
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
    let _sweeper = LeftoverSweeper::for_project(&project);
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
    assert_nothing_left(&run_id);
    let run = project.run_json();
    assert_eq!(run.status(), "interrupted");
    run.assert_states(&[("busy", "cancelled"), ("after", "skipped")]);
    run.assert_reason_contains("busy", &["interrupted"]);
}

#[test]
fn job_timeout_stops_a_container_that_ignores_sigterm() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let project = container_project(&format!(
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
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run(&RUN);

    finished.assert_code(1);
    assert!(
        finished.elapsed < Duration::from_secs(12),
        "the run took {:?}, as if it waited for the sleep",
        finished.elapsed
    );
    let run = project.run_json();
    run.assert_states(&[("stubborn", "failed"), ("after", "skipped")]);
    run.assert_reason_contains("stubborn", &["timed out"]);
    run.assert_reason_contains("after", &["stubborn.ExitCode(0)"]);
    assert!(project.log("stubborn").contains("armed"));
    // SIGTERM was ignored: it took the 1 s timeout plus the 1 s grace, then a kill.
    let duration = run.seconds("stubborn", "duration_seconds");
    assert!(
        (1.8..8.0).contains(&duration),
        "stubborn ran for {duration}s"
    );
    assert_nothing_left(&project.run_id());
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
        .assert_states(&[("containerised", "passed")]);
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
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker();
    let project = container_project(&format!(
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
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run(&["run", "--no-progress", "--keep-running"]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("db", "passed"), ("client", "passed")]);
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
    assert_nothing_left(&run_id);
}

#[test]
fn gc_removes_the_containers_of_a_killed_run_and_spares_a_live_one() {
    let Some(_engine) = engine_alone_or_skip() else {
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
    let killed = Project::new(&pipeline(&unique_marker()));
    let _killed_sweeper = LeftoverSweeper::for_project(&killed);
    let live = Project::new(&pipeline(&unique_marker()));
    let _live_sweeper = LeftoverSweeper::for_project(&live);

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
    assert_nothing_left(&killed_run);
    assert_eq!(
        (live_objects.containers.len(), live_objects.networks.len()),
        (2, 1),
        "gc touched the run of a live pipekit-ci: {live_objects:?}"
    );
    live_finished.assert_code(130);
    assert_nothing_left(&live_run);
}

#[test]
fn two_runs_of_one_pipeline_at_once_pass_with_their_own_folders_and_containers() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    // The client of each run waits until both runs have a client (the source tree is
    // shared by both), so the two runs overlap or fail; each must reach its own server.
    let project = container_project(
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
    let _sweeper = LeftoverSweeper::for_project(&project);

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
        assert_eq!(run.value()["run_id"], run_id.as_str());
        run.assert_states(&[("server", "passed"), ("client", "passed")]);
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
        assert_nothing_left(&run_id);
    }
}

/// `--fail-fast` stops a build in flight: the built job's command never runs, and the run
/// does not wait for the build to finish.
#[test]
fn fail_fast_abandons_a_build_in_flight_and_its_command_never_runs() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let marker = unique_marker().replace('.', "-");
    let tag = format!("pipekit-test/slow-{marker}:latest");
    let project = Project::new(&format!(
        r#"
services:
  fails:
    command: sleep 1; exit 3
  slow-build:
    build: {{context: app}}
    image: {tag}
    command: echo RAN-AFTER-FAIL-FAST
"#
    ));
    project.write(
        "app/Dockerfile",
        &format!(
            "FROM {image}\nRUN sleep 20 # {marker}\n",
            image = test_image()
        ),
    );
    let _sweeper = LeftoverSweeper::for_project(&project).and_image(&tag);

    let began = Instant::now();
    let finished = project.run_pipeline(&["--fail-fast"]);
    let took = began.elapsed();

    finished.assert_code(1);
    assert!(
        took < Duration::from_secs(12),
        "the run waited for the build: {took:?}"
    );
    let run = project.run_json();
    run.assert_states(&[("fails", "failed"), ("slow-build", "cancelled")]);
    assert!(
        !finished.output().contains("RAN-AFTER-FAIL-FAST"),
        "the abandoned job ran:\n{}",
        finished.output()
    );
    assert_nothing_left(&project.run_id());
}

/// Compose's `healthcheck` runs inside the container (an exec), and
/// `condition: service_healthy` waits for it.
#[test]
fn service_healthy_waits_for_a_healthcheck_run_inside_the_container() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let project = container_project(
        r#"
services:
  server:
    image: {image}
    detach: true
    # Healthy only once /tmp/ready exists, a file only the container itself can see.
    command: sleep 1.5; touch /tmp/ready; echo became ready; sleep 60
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ready"]
      interval: 0.2s
      retries: 50
  client:
    image: {image}
    depends_on:
      server:
        condition: service_healthy
    command: echo client ran
"#,
    );
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_pipeline(&["--stop-grace", "1"]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("server", "passed"), ("client", "passed")]);
    let client_start = run.seconds("client", "started_after_seconds");
    let server_start = run.seconds("server", "started_after_seconds");
    assert!(
        client_start - server_start >= 1.5,
        "client started {:.2}s after server, before the healthcheck could pass",
        client_start - server_start
    );
    assert_nothing_left(&project.run_id());
}
