//! A run followed over HTTP as it goes (server-sent events, read by curl) and its files
//! fetched: logs by tail and window, the JUnit report, artifacts. The real binary, a real
//! repository, real jobs.

use crate::common::{Server, name_of, served_repository as repository};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// One SSE message as curl received it.
#[derive(Debug, Clone, PartialEq)]
struct Message {
    id: Option<String>,
    event: Option<String>,
    data: Value,
}

/// `curl -N` on a run's event stream; its messages arrive on a channel as they come.
struct Follower {
    curl: Child,
    messages: mpsc::Receiver<Message>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Follower {
    fn start(server: &Server, path: &str, last_event_id: Option<&str>) -> Follower {
        let mut command = Command::new("curl");
        command.args(["-sN", "--max-time", "60"]);
        if let Some(id) = last_event_id {
            command.args(["-H", &format!("Last-Event-ID: {id}")]);
        }
        let mut curl = command
            .arg(format!("{}{path}", server.url))
            .stdout(Stdio::piped())
            .spawn()
            .expect("curl runs");
        let stdout = curl.stdout.take().expect("piped stdout");
        let (sender, messages) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut message = (None, None, String::new());
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.is_empty() {
                    let (id, event, data) = std::mem::take(&mut message);
                    if data.is_empty() {
                        continue;
                    }
                    let data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                    if sender.send(Message { id, event, data }).is_err() {
                        return;
                    }
                } else if let Some(id) = line.strip_prefix("id: ") {
                    message.0 = Some(id.to_owned());
                } else if let Some(event) = line.strip_prefix("event: ") {
                    message.1 = Some(event.to_owned());
                } else if let Some(data) = line.strip_prefix("data: ") {
                    message.2.push_str(data);
                }
            }
        });
        Follower {
            curl,
            messages,
            reader: Some(reader),
        }
    }

    /// The messages until one `until` takes (included); panics after 30 s.
    fn until(&self, until: impl Fn(&Message) -> bool) -> Vec<Message> {
        let mut seen = Vec::new();
        loop {
            let message = self
                .messages
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no message came; so far: {seen:#?}"));
            let done = until(&message);
            seen.push(message);
            if done {
                return seen;
            }
        }
    }

    /// Every message until the server ends the stream.
    fn until_it_ends(mut self) -> Vec<Message> {
        let status = self.curl.wait().expect("curl ends");
        assert!(status.success(), "the stream did not end cleanly: {status}");
        if let Some(reader) = self.reader.take() {
            reader
                .join()
                .expect("the reader thread ends with curl's output");
        }
        self.messages.try_iter().collect()
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        let _ = self.curl.kill();
        let _ = self.curl.wait();
    }
}

/// The texts of the `line` messages (one line each, or an array of several).
fn lines_of(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter(|message| message.event.as_deref() == Some("line"))
        .flat_map(|message| match &message.data {
            Value::Array(lines) => lines.clone(),
            line => vec![line.clone()],
        })
        .map(|line| {
            format!(
                "{}:{}:{}",
                line["job"].as_str().unwrap_or("?"),
                line["n"],
                line["text"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

fn kinds_of(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter(|message| message.event.is_none())
        .map(|message| message.data["kind"].as_str().unwrap_or("?").to_owned())
        .collect()
}

#[test]
fn a_follower_sees_a_running_jobs_lines_as_they_are_printed_and_the_stream_ends_with_the_run() {
    let gate = tempfile::tempdir().expect("tempdir");
    let go = gate.path().join("go");
    let pipeline = format!(
        "services:\n  talk:\n    command: sh -c 'echo first; while [ ! -f {go} ]; do sleep 0.02; done; echo second; printf last-without-newline'\n",
        go = go.display()
    );
    let (repo, data) = repository(&pipeline);
    let server = Server::start(repo.path(), data.path());
    let id = server.queue_branch(&name_of(repo.path()), "main");

    // Followed from while it is queued: the stream waits for the run to start.
    let follower = Follower::start(&server, &format!("/api/v1/runs/{id}/events"), None);
    let before_go = follower.until(|message| {
        lines_of(std::slice::from_ref(message))
            .iter()
            .any(|line| line.ends_with(":first"))
    });
    assert_eq!(kinds_of(&before_go)[0], "run_started", "{before_go:#?}");
    assert!(
        before_go.iter().all(|message| message.id.is_some()),
        "every message has an id: {before_go:#?}"
    );
    // The job is still waiting for the gate: the line came live, not from a finished log.
    assert_eq!(server.run(id)["status"], "running");

    std::fs::write(&go, "").expect("open the gate");
    let rest = follower.until_it_ends();
    let mut all = before_go.clone();
    all.extend(rest);
    assert_eq!(
        lines_of(&all),
        [
            "talk:1:first",
            "talk:2:second",
            "talk:3:last-without-newline"
        ],
        "{all:#?}"
    );
    let kinds = kinds_of(&all);
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("run_finished"),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"job_finished".to_owned()), "{kinds:?}");
    let seqs: Vec<i64> = all
        .iter()
        .filter(|message| message.event.is_none())
        .filter_map(|message| message.data["seq"].as_i64())
        .collect();
    assert_eq!(
        seqs,
        (0..seqs.len() as i64).collect::<Vec<_>>(),
        "no event lost or repeated"
    );

    // The same stream of the finished run, replayed from its files, is the same.
    let replay =
        Follower::start(&server, &format!("/api/v1/runs/{id}/events"), None).until_it_ends();
    assert_eq!(lines_of(&replay), lines_of(&all));
    assert_eq!(kinds_of(&replay), kinds);
}

#[test]
fn last_event_id_resumes_right_after_it_with_nothing_lost_or_repeated() {
    let (repo, data) = repository(
        "services:\n  count:\n    command: sh -c 'i=1; while [ $i -le 1500 ]; do echo line $i; i=$((i+1)); done'\n  after:\n    command: echo done\n    depends_on:\n      count: {condition: service_completed_successfully}\n",
    );
    let server = Server::start(repo.path(), data.path());
    let id = server.queue_branch(&name_of(repo.path()), "main");
    server.wait_for(id, &["passed"]);
    let path = format!("/api/v1/runs/{id}/events");
    let whole = Follower::start(&server, &path, None).until_it_ends();
    let everything = (lines_of(&whole), kinds_of(&whole));
    assert_eq!(everything.0.len(), 1501, "{:?}", &everything.0[..3]);
    assert!(
        whole
            .iter()
            .any(|message| matches!(&message.data, Value::Array(lines) if lines.len() > 1)),
        "several lines share a message"
    );

    for cut in [0, 1, whole.len() / 2, whole.len() - 2] {
        let id_there = whole[cut].id.clone().expect("an id");
        let rest = Follower::start(&server, &path, Some(&id_there)).until_it_ends();
        let mut lines = lines_of(&whole[..=cut]);
        lines.extend(lines_of(&rest));
        let mut kinds = kinds_of(&whole[..=cut]);
        kinds.extend(kinds_of(&rest));
        assert_eq!(
            (lines, kinds),
            everything,
            "resumed after message {cut} ({id_there})"
        );
    }

    // One job's lines only, and ids that are not this run's.
    let only = Follower::start(&server, &format!("{path}?job=after"), None).until_it_ends();
    assert_eq!(lines_of(&only), ["after:1:done"]);
    for bad in [
        "/events?job=nope",
        "/events?last_event_id=e%3D99%4099999",
        "/events?last_event_id=junk",
    ] {
        let answer = server.fetch(&format!("/api/v1/runs/{id}{bad}"));
        let (status, body) = (answer.status, answer.text());
        assert!(status == 400 || status == 404, "{bad}: {status} {body}");
        assert!(body.contains("\"error\""), "{bad}: {body}");
    }
}

#[test]
fn a_runs_log_report_and_artifacts_are_fetched_and_no_path_leaves_the_run_folder() {
    let (repo, data) = repository(
        "services:\n  build:\n    command: sh -c 'mkdir -p out && echo built > out/app.txt && i=1; while [ $i -le 20 ]; do echo build line $i; i=$((i+1)); done'\n    artifacts:\n      - out/app.txt\n  test:\n    command: sh -c 'echo testing; exit 3'\n",
    );
    let server = Server::start(repo.path(), data.path());
    let id = server.queue_branch(&name_of(repo.path()), "main");
    let run = server.wait_for(id, &["failed"]);
    assert_eq!(
        (
            run["tests"]["passed"].as_i64(),
            run["tests"]["failed"].as_i64()
        ),
        (Some(1), Some(1)),
        "{run}"
    );
    assert!(
        run["tests"]["failures"].to_string().contains("test"),
        "the failed job is among the failures: {run}"
    );

    let log = format!("/api/v1/runs/{id}/jobs/build/log");
    let whole = server.fetch(&log);
    assert_eq!(whole.status, 200);
    assert!(
        whole
            .header("content-type")
            .is_some_and(|kind| kind.starts_with("text/plain"))
    );
    assert_eq!(whole.text().lines().count(), 20);

    let tail = server.fetch(&format!("{log}?tail=3"));
    assert_eq!(tail.status, 200);
    assert_eq!(tail.text(), "build line 18\nbuild line 19\nbuild line 20\n");
    assert_eq!(tail.header("x-pipekit-log-first-line"), Some("18"));
    let start = tail
        .header("x-pipekit-log-start")
        .expect("where the tail starts");
    let earlier = server.fetch(&format!("{log}?tail=2&before={start}"));
    assert_eq!(earlier.text(), "build line 16\nbuild line 17\n");
    assert_eq!(earlier.header("x-pipekit-log-first-line"), Some("16"));

    let report = server.fetch(&format!("/api/v1/runs/{id}/junit.xml"));
    assert_eq!(report.status, 200);
    assert!(
        report
            .header("content-type")
            .is_some_and(|kind| kind.contains("xml"))
    );
    assert!(report.text().contains("<testsuites"));

    let archive = server.fetch(&format!("/api/v1/runs/{id}/artifacts/build"));
    assert_eq!(archive.status, 200, "{}", archive.text());
    assert!(
        archive
            .header("content-disposition")
            .is_some_and(|value| value.contains("attachment"))
    );
    assert_eq!(
        &archive.body[..4],
        &[0x28, 0xb5, 0x2f, 0xfd],
        "a zstd frame"
    );

    for bad in [
        format!("/api/v1/runs/{id}/artifacts/test"),
        format!("/api/v1/runs/{id}/jobs/nope/log"),
        format!("/api/v1/runs/{id}/jobs/..%2F..%2F..%2Fpipekit.db/log"),
        format!("/api/v1/runs/{id}/artifacts/..%2Frun.json"),
        format!("/api/v1/runs/{id}/jobs/build/log?offset=999999"),
        format!("/api/v1/runs/{id}/jobs/build/log?tail=x"),
        "/api/v1/runs/999/junit.xml".to_owned(),
        "/api/v1/runs/..%2F..%2Fetc/junit.xml".to_owned(),
    ] {
        let answer = server.fetch(&bad);
        let (status, body) = (answer.status, answer.text());
        assert!((400..500).contains(&status), "{bad}: {status} {body}");
        assert!(!body.contains("SQLite"), "{bad}: {body}");
    }
    assert_eq!(server.call("GET", "/healthz", None).0, 200);
}
