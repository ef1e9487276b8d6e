//! Readiness of containers: `Grep` and `Port` signals, published ports, healthchecks.

use super::support::{RUN, ended_at, signal_fired_at, wait_for_log};
use crate::common::{ContainerTest, JobState, docker, eventually};
use std::time::Duration;

#[test]
fn grep_signals_on_a_containers_stdout_and_stderr_gate_the_dependent() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    // Each line first appears on the other stream, where it must not count.
    let project = test.project(
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

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
    let signal = |index: usize| run.job("server").signal_fired_after(index);
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
    let client_start = run.job("client").started_after();
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
}

#[test]
fn port_signal_on_a_container_gates_a_client_that_reaches_it_by_job_name() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = test.marker();
    let project = test.project(&format!(
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

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
    let fired = run.job("server").signal_fired_after(0);
    assert!(
        fired >= 0.9,
        "`listening` fired at {fired}s, before anything listened"
    );
    let client_start = run.job("client").started_after();
    assert!(
        client_start + 1e-6 >= signal_fired_at(&run, "server", 0),
        "client started at {client_start}s, before server.listening fired"
    );
    let client = project.log("client");
    assert!(
        client.contains(&format!("client got [pong {marker}]")),
        "client log:\n{client}"
    );
}

/// README: "`ports` are published as in Compose". In Compose a bare container port
/// (`- "8080"`) is published on an ephemeral host port.
#[test]
fn ports_without_a_host_port_are_published_on_an_ephemeral_host_port_as_in_compose() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = test.marker();
    let project = test.project(&format!(
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
}

/// Compose's `healthcheck` runs inside the container (an exec), and
/// `condition: service_healthy` waits for it.
#[test]
fn service_healthy_waits_for_a_healthcheck_run_inside_the_container() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let project = test.project(
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

    let finished = project.run_pipeline(&["--stop-grace", "1"]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
    let client_start = run.job("client").started_after();
    let server_start = run.job("server").started_after();
    assert!(
        client_start - server_start >= 1.5,
        "client started {:.2}s after server, before the healthcheck could pass",
        client_start - server_start
    );
}

/// Issue 10: the watcher knocked on the container's port, so a server's first connection
/// was pipekit-ci's. The container's own socket table is read instead.
#[test]
fn port_signal_on_a_container_fires_without_connecting_to_it() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let project = test.project(
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

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
    let client = project.log("client");
    assert!(
        client.contains("client got [accepted 1]"),
        "client log:\n{client}"
    );
}
