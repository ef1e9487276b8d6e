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

/// curl of `path`: status, headers (lower-case names), body.
fn fetch(server: &Server, path: &str) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let output = Command::new("curl")
        .args(["-s", "-D", "/dev/stderr"])
        .arg(format!("{}{path}", server.url))
        .output()
        .expect("curl runs");
    let head = String::from_utf8_lossy(&output.stderr);
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, output.stdout)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(known, _)| known == name)
        .map(|(_, value)| value.as_str())
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
    let body = format!(
        r#"{{"repository": "{}", "ref": "main"}}"#,
        name_of(repo.path())
    );
    let (status, queued) = server.call("POST", "/api/v1/runs", Some(&body));
    assert_eq!(status, 201, "{queued}");
    let id = queued["id"].as_i64().expect("an id");

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
    let body = format!(
        r#"{{"repository": "{}", "ref": "main"}}"#,
        name_of(repo.path())
    );
    let id = server.call("POST", "/api/v1/runs", Some(&body)).1["id"]
        .as_i64()
        .expect("an id");
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
        let (status, _, body) = fetch(&server, &format!("/api/v1/runs/{id}{bad}"));
        let body = String::from_utf8_lossy(&body);
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
    let body = format!(
        r#"{{"repository": "{}", "ref": "main"}}"#,
        name_of(repo.path())
    );
    let id = server.call("POST", "/api/v1/runs", Some(&body)).1["id"]
        .as_i64()
        .expect("an id");
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
    let (status, headers, whole) = fetch(&server, &log);
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").is_some_and(|kind| kind.starts_with("text/plain")));
    let whole = String::from_utf8(whole).expect("text");
    assert_eq!(whole.lines().count(), 20);

    let (status, headers, tail) = fetch(&server, &format!("{log}?tail=3"));
    assert_eq!(status, 200);
    assert_eq!(
        String::from_utf8_lossy(&tail),
        "build line 18\nbuild line 19\nbuild line 20\n"
    );
    assert_eq!(header(&headers, "x-pipekit-log-first-line"), Some("18"));
    let start = header(&headers, "x-pipekit-log-start").expect("where the tail starts");
    let (_, headers, earlier) = fetch(&server, &format!("{log}?tail=2&before={start}"));
    assert_eq!(
        String::from_utf8_lossy(&earlier),
        "build line 16\nbuild line 17\n"
    );
    assert_eq!(header(&headers, "x-pipekit-log-first-line"), Some("16"));

    let (status, headers, report) = fetch(&server, &format!("/api/v1/runs/{id}/junit.xml"));
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").is_some_and(|kind| kind.contains("xml")));
    assert!(String::from_utf8_lossy(&report).contains("<testsuites"));

    let (status, headers, archive) = fetch(&server, &format!("/api/v1/runs/{id}/artifacts/build"));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&archive));
    assert!(
        header(&headers, "content-disposition").is_some_and(|value| value.contains("attachment"))
    );
    assert_eq!(&archive[..4], &[0x28, 0xb5, 0x2f, 0xfd], "a zstd frame");

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
        let (status, _, body) = fetch(&server, &bad);
        let body = String::from_utf8_lossy(&body);
        assert!((400..500).contains(&status), "{bad}: {status} {body}");
        assert!(!body.contains("SQLite"), "{bad}: {body}");
    }
    assert_eq!(server.call("GET", "/healthz", None).0, 200);
}
