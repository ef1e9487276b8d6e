//! Signals: Grep, Exists and Port, their timeouts, and the jobs gated on them.

use crate::common::{JobState, Project, free_port, python3_available};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::time::Duration;

#[test]
fn grep_signal_timeout_fails_the_job_naming_the_signal_and_skips_its_dependent() {
    let project = Project::new(
        r#"
services:
  server:
    command: echo "still starting"; sleep 30
    signals:
      ready: Grep(stdout, "never"):1
  client:
    depends_on: [server.ready]
    command: touch client-ran
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    assert!(
        finished.elapsed < Duration::from_secs(8),
        "took {:?}",
        finished.elapsed
    );
    let run = project.run_json();
    run.assert_states(&[("server", JobState::Failed), ("client", JobState::Skipped)]);
    run.assert_reason_contains("server", &["ready", "timed out"]);
    run.assert_reason_contains("client", &["server.ready"]);
    assert!(!project.path().join("client-ran").exists());
}

#[test]
fn grep_signal_that_can_no_longer_fire_fails_the_job_when_it_exits() {
    let project = Project::new(
        r#"
services:
  server:
    command: echo "something else"
    signals:
      ready: Grep(stdout, "listening")
  client:
    depends_on: [server.ready]
    command: echo client
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    let run = project.run_json();
    run.assert_states(&[("server", JobState::Failed), ("client", JobState::Skipped)]);
    run.assert_reason_contains("server", &["ready"]);
}

#[test]
fn grep_signal_on_stderr_gates_the_dependent() {
    let project = Project::new(
        r#"
services:
  server:
    command: echo "booting"; sleep 0.2; echo "accepting connections" >&2; sleep 1
    signals:
      up: Grep(stderr, "accepting conn[a-z]+")
  client:
    depends_on: [server.up]
    command: echo connected
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
    let fired = run.job("server").signal_fired_after(0);
    assert!(
        fired >= 0.15,
        "`up` fired at {fired}s, before the line was printed"
    );
    // The client started once the line was seen, not after the server's exit.
    let client_start = run.job("client").started_after();
    let server_end = run.job("server").started_after() + run.job("server").duration();
    assert!(
        client_start < server_end,
        "client started at {client_start}s, server ended at {server_end}s"
    );
}

#[test]
fn exists_signal_gates_the_dependent_until_the_file_appears() {
    let project = Project::new(
        r#"
services:
  a:
    command: sleep 0.5; mkdir -p "$PIPEKIT_SHARED/flag"; touch "$PIPEKIT_SHARED/flag/x"; sleep 1
    signals:
      flagged: Exists("flag/x"):10
  b:
    depends_on: [a.flagged]
    command: test -e "$PIPEKIT_SHARED/flag/x" && echo "saw the flag"
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("a", JobState::Passed), ("b", JobState::Passed)]);
    assert!(project.log("b").contains("saw the flag"));
    let fired = run.job("a").signal_fired_after(0);
    assert!(
        fired >= 0.4,
        "`flagged` fired at {fired}s, before the file was created"
    );
    let b_start = run.job("b").started_after();
    assert!(
        b_start >= run.job("a").started_after() + 0.4,
        "b started at {b_start}s"
    );
}

#[test]
fn exists_signal_fires_when_the_job_creates_the_file_and_exits_at_once() {
    let project = Project::new(
        r#"
services:
  a:
    command: sleep 0.3; mkdir -p "$PIPEKIT_SHARED/flag"; touch "$PIPEKIT_SHARED/flag/x"
    signals:
      flagged: Exists("flag/x"):10
  b:
    depends_on: [a.flagged]
    command: echo "saw the flag"
"#,
    );

    let finished = project.run_pipeline(&[]);

    // The path existed before the job exited, so the signal held: nothing failed.
    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("a", JobState::Passed), ("b", JobState::Passed)]);
}

#[test]
fn port_signal_gates_the_client_and_the_detached_server_is_stopped_after() {
    if !python3_available() {
        eprintln!("skipped: python3 is not available on this machine");
        return;
    }
    let port = free_port();
    let project = Project::new(&format!(
        r#"
services:
  server:
    detach: true
    command: exec python3 -m http.server {port} --bind 127.0.0.1
    signals:
      listening: Port({port}):20
  client:
    depends_on: [server.listening]
    command: python3 -c 'import urllib.request;urllib.request.urlopen("http://127.0.0.1:{port}")'
"#
    ));

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    let run = project.run_json();
    run.assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
    assert!(
        run.job("server").exit_code.is_none(),
        "the server exited on its own"
    );
    let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    assert!(
        TcpStream::connect_timeout(&address.into(), Duration::from_millis(500)).is_err(),
        "the detached server still listens on {port} after the run"
    );
}

/// A server that answers each connection with how many it accepted so far: the first
/// client to see `1` is the first to have connected.
const COUNTING_SERVER: &str = r#"
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen()
accepted = 0
while True:
    connection, _ = server.accept()
    accepted += 1
    connection.sendall(b"accepted %d\n" % accepted)
    connection.close()
"#;

const COUNTING_CLIENT: &str = r#"
import socket, sys
print(socket.create_connection(("127.0.0.1", int(sys.argv[1]))).recv(100).decode().strip())
"#;

/// Issue 10: the watcher knocked every 10 ms, so a server's first connection was
/// pipekit-ci's, not its client's.
#[test]
fn port_signal_fires_without_connecting_to_the_server() {
    if !python3_available() {
        eprintln!("skipped: python3 is not available on this machine");
        return;
    }
    let port = free_port();
    let project = Project::new(&format!(
        r#"
services:
  server:
    detach: true
    command: sleep 0.3; exec python3 server.py {port}
    signals:
      listening: Port({port}):20
  client:
    depends_on: [server.listening]
    command: sleep 0.2; python3 client.py {port}
"#
    ));
    project.write("server.py", COUNTING_SERVER);
    project.write("client.py", COUNTING_CLIENT);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
    let client = project.log("client");
    assert!(client.contains("accepted 1"), "client log:\n{client}");
}

/// The job's server may leave its process tree (a double fork re-parents it to pipekit-ci):
/// its tag still makes its listener the job's.
#[test]
fn port_signal_fires_for_a_double_forked_daemon_of_the_job() {
    if !python3_available() {
        eprintln!("skipped: python3 is not available on this machine");
        return;
    }
    let port = free_port();
    let project = Project::new(&format!(
        r#"
services:
  server:
    detach: true
    command: (setsid python3 server.py {port} &); exec sleep 30
    signals:
      listening: Port({port}):20
  client:
    depends_on: [server.listening]
    command: python3 client.py {port}
"#
    ));
    project.write("server.py", COUNTING_SERVER);
    project.write("client.py", COUNTING_CLIENT);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("server", JobState::Passed), ("client", JobState::Passed)]);
    let client = project.log("client");
    assert!(client.contains("accepted 1"), "client log:\n{client}");
}

/// Issue 10: a port held by another process fired the signal though the job never
/// listened.
#[test]
fn port_signal_does_not_fire_for_a_port_another_process_listens_on() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("cannot bind a port");
    let port = listener.local_addr().expect("bound listener").port();
    let project = Project::new(&format!(
        r#"
services:
  server:
    command: sleep 30
    signals:
      listening: Port({port}):1
  client:
    depends_on: [server.listening]
    command: touch client-ran
"#
    ));

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    let run = project.run_json();
    run.assert_states(&[("server", JobState::Failed), ("client", JobState::Skipped)]);
    run.assert_reason_contains("server", &["listening", "timed out"]);
    assert!(!project.path().join("client-ran").exists());
    drop(listener);
}
