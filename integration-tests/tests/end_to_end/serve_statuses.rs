//! Commit statuses (spec 8), end to end: the built server runs a two-job pipeline and
//! posts each job's states to a forge. The forge is a loopback HTTP server in this test
//! process standing in for GitHub's, Gitea's and GitLab's APIs: it records each request
//! and answers 201, or 500 while it is told to fail.

use crate::common::{Server, binary, eventually, served_repository};
use nix::sys::signal::Signal;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const PIPELINE: &str =
    "name: ci\nservices:\n  build:\n    command: echo built\n  lint:\n    command: \"false\"\n";
const TOKEN: &str = "t0k-of-the-forge";

/// A request the stand-in received, and what it answered.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    /// Names in lower case.
    headers: Vec<(String, String)>,
    body: Value,
    answered: u16,
    at: Instant,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The loopback forge API: one connection at a time, as the server's outbox sends.
struct ForgeStandIn {
    port: u16,
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Requests still to answer 500.
    failures_left: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ForgeStandIn {
    fn start() -> ForgeStandIn {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let failures_left = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, failures_left, stopping) =
                (requests.clone(), failures_left.clone(), stopping.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    if let Ok(stream) = stream {
                        answer(stream, &requests, &failures_left);
                    }
                }
            })
        };
        ForgeStandIn {
            port,
            requests,
            failures_left,
            stopping,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn fail_next(&self, requests: usize) {
        self.failures_left.store(requests, Ordering::SeqCst);
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().expect("not poisoned").clone()
    }
}

impl Drop for ForgeStandIn {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accepting thread so that it sees it is to stop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one HTTP/1.1 request from `stream`, records it, answers it and closes.
fn answer(stream: TcpStream, requests: &Mutex<Vec<Recorded>>, failures_left: &AtomicUsize) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim_end().is_empty() {
            break;
        }
        if let Some((name, value)) = header.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let failing = failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
            left.checked_sub(1)
        })
        .is_ok();
    let (answered, reply) = match failing {
        true => (500, r#"{"message":"Server Error"}"#),
        false => (201, r#"{"id":1}"#),
    };
    requests.lock().expect("not poisoned").push(Recorded {
        method,
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        answered,
        at: Instant::now(),
    });
    let mut stream = &stream;
    let _ = write!(
        stream,
        "HTTP/1.1 {answered} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
        reply.len()
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forge {
    GitHub,
    Gitea,
    GitLab,
}

impl Forge {
    fn kind(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::Gitea => "gitea",
            Forge::GitLab => "gitlab",
        }
    }

    /// Where the stand-in's API lives, as a user would write `api:` for this forge.
    fn api_path(self) -> &'static str {
        match self {
            Forge::GitHub => "",
            Forge::Gitea => "/api/v1",
            Forge::GitLab => "/api/v4",
        }
    }

    fn status_path(self, commit: &str) -> String {
        match self {
            Forge::GitHub => format!("/repos/owner/app/statuses/{commit}"),
            Forge::Gitea => format!("/api/v1/repos/owner/app/statuses/{commit}"),
            Forge::GitLab => format!("/api/v4/projects/group%2Fapp/statuses/{commit}"),
        }
    }

    /// The context's field: GitLab calls it `name`.
    fn context_of(self, body: &Value) -> Option<String> {
        let field = match self {
            Forge::GitLab => "name",
            _ => "context",
        };
        body[field].as_str().map(str::to_owned)
    }

    /// The final states of `build` (passes) and `lint` (exits 1).
    fn final_states(self) -> (&'static str, &'static str) {
        match self {
            Forge::GitLab => ("success", "failed"),
            _ => ("success", "failure"),
        }
    }
}

/// `app` (a repository with [`PIPELINE`]), its statuses to `forge` at `stand_in`; the
/// config file's path.
fn config_for(dir: &Path, repo: &Path, forge: Forge, stand_in: &ForgeStandIn, url: &str) -> String {
    let repository = match forge {
        Forge::GitLab => "group/app",
        _ => "owner/app",
    };
    let config = dir.join("serve.yml");
    std::fs::write(
        &config,
        format!(
            "{url}repositories:\n  app:\n    url: {}\n    poll: 0\n    status: {{kind: {}, api: \"{}{}\", repository: {repository},\n             token: {{environment: FORGE_TOKEN}}}}\n",
            repo.display(),
            forge.kind(),
            stand_in.url(),
            forge.api_path(),
        ),
    )
    .expect("write the config");
    config.to_str().expect("utf-8").to_owned()
}

fn start(dir: &Path, data: &Path, config: &str) -> Server {
    Server::start_with_env(dir, data, &["--config", config], &[("FORGE_TOKEN", TOKEN)])
}

/// Queues a run of `main`, waits for its end (`lint` fails it); its id and commit.
fn run_main(server: &Server) -> (i64, String) {
    let (status, queued) = server.call(
        "POST",
        "/api/v1/runs",
        Some(r#"{"repository": "app", "ref": "main"}"#),
    );
    assert_eq!(status, 201, "{queued}");
    let id = queued["id"].as_i64().expect("an id");
    let run = server.wait_for(id, &["passed", "failed", "errored", "invalid"]);
    assert_eq!(run["status"], "failed", "{run}");
    (id, run["commit"].as_str().expect("a commit").to_owned())
}

/// Whether the stand-in got both jobs' final states, answered `answered` (any, if
/// `None`).
fn has_final_states(stand_in: &ForgeStandIn, forge: Forge, answered: Option<u16>) -> bool {
    let (build, lint) = forge.final_states();
    let requests = stand_in.requests();
    [("pipekit/ci/build", build), ("pipekit/ci/lint", lint)]
        .iter()
        .all(|(context, state)| {
            requests.iter().any(|request| {
                forge.context_of(&request.body).as_deref() == Some(*context)
                    && request.body["state"] == *state
                    && answered.is_none_or(|code| request.answered == code)
            })
        })
}

#[test]
fn github_gitea_and_gitlab_get_each_jobs_states_with_its_context_and_link() {
    for forge in [Forge::GitHub, Forge::Gitea, Forge::GitLab] {
        let stand_in = ForgeStandIn::start();
        let (repo, data) = served_repository(PIPELINE);
        let elsewhere = tempfile::tempdir().expect("tempdir");
        // GitLab's server is told its public URL; the others link to where it listens.
        let url_line = match forge {
            Forge::GitLab => "url: https://ci.example.com/\n",
            _ => "",
        };
        let config = config_for(elsewhere.path(), repo.path(), forge, &stand_in, url_line);
        let server = start(elsewhere.path(), data.path(), &config);
        let (id, commit) = run_main(&server);
        assert!(
            eventually(Duration::from_secs(30), || has_final_states(
                &stand_in,
                forge,
                Some(201)
            )),
            "{forge:?}: {:#?}",
            stand_in.requests()
        );
        let public = match forge {
            Forge::GitLab => "https://ci.example.com".to_owned(),
            _ => server.url.clone(),
        };
        let requests = stand_in.requests();
        for request in &requests {
            assert_eq!(request.method, "POST", "{forge:?}");
            assert_eq!(request.path, forge.status_path(&commit), "{forge:?}");
            let (header, value) = match forge {
                Forge::GitHub => ("authorization", format!("Bearer {TOKEN}")),
                Forge::Gitea => ("authorization", format!("token {TOKEN}")),
                Forge::GitLab => ("private-token", TOKEN.to_owned()),
            };
            assert_eq!(request.header(header), Some(value.as_str()), "{forge:?}");
            if forge == Forge::GitLab {
                assert_eq!(request.header("authorization"), None);
            }
            assert_eq!(request.header("content-type"), Some("application/json"));
            assert!(
                request
                    .header("user-agent")
                    .is_some_and(|agent| agent.starts_with("pipekit-ci/")),
                "{request:?}"
            );
        }
        let (build_final, lint_final) = forge.final_states();
        for (job, last) in [("build", build_final), ("lint", lint_final)] {
            let context = format!("pipekit/ci/{job}");
            let told: Vec<&Recorded> = requests
                .iter()
                .filter(|request| forge.context_of(&request.body).as_deref() == Some(&context))
                .collect();
            for request in &told {
                assert_eq!(
                    request.body["target_url"],
                    format!("{public}/runs/{id}/jobs/{job}"),
                    "{forge:?}"
                );
            }
            // In order, each state once; one may be skipped when a newer one came first.
            let states: Vec<(&str, &str)> = told
                .iter()
                .map(|request| {
                    (
                        request.body["state"].as_str().unwrap_or_default(),
                        request.body["description"].as_str().unwrap_or_default(),
                    )
                })
                .collect();
            let running = match forge {
                Forge::GitLab => "running",
                _ => "pending",
            };
            let order = [("pending", "waiting to start"), (running, "running")];
            let (before_last, last_told) = states.split_at(states.len().saturating_sub(1));
            assert_eq!(
                last_told.first().map(|told| told.0),
                Some(last),
                "{forge:?} {job}: {states:?}"
            );
            let mut rest = order.iter();
            assert!(
                before_last
                    .iter()
                    .all(|told| rest.any(|state| state == told)),
                "{forge:?} {job}: {states:?}"
            );
        }
    }
}

#[test]
fn a_forge_that_fails_gets_the_statuses_after_retries() {
    let stand_in = ForgeStandIn::start();
    stand_in.fail_next(usize::MAX);
    let (repo, data) = served_repository(PIPELINE);
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let config = config_for(elsewhere.path(), repo.path(), Forge::GitHub, &stand_in, "");
    let server = start(elsewhere.path(), data.path(), &config);
    run_main(&server);
    assert!(
        eventually(Duration::from_secs(30), || has_final_states(
            &stand_in,
            Forge::GitHub,
            Some(500)
        )),
        "{:#?}",
        stand_in.requests()
    );
    // The forge comes back, failing two more attempts first.
    let first_final = stand_in
        .requests()
        .iter()
        .filter(|request| request.body["state"] != "pending")
        .map(|request| request.at)
        .min()
        .expect("a final state sent");
    stand_in.fail_next(2);
    assert!(
        eventually(Duration::from_secs(60), || has_final_states(
            &stand_in,
            Forge::GitHub,
            Some(201)
        )),
        "{:#?}",
        stand_in.requests()
    );
    let requests = stand_in.requests();
    let delivered_final = requests
        .iter()
        .filter(|request| request.answered == 201 && request.body["state"] != "pending")
        .map(|request| request.at)
        .min()
        .expect("a final state delivered");
    assert!(
        delivered_final.duration_since(first_final) >= Duration::from_millis(900),
        "a refused status is sent again only after a wait"
    );
    let failed = requests
        .iter()
        .filter(|request| request.answered == 500)
        .count();
    assert!(
        failed >= 4,
        "both final states failed, then two more: {failed}"
    );
    drop(server);
}

#[test]
fn statuses_not_delivered_when_the_server_is_killed_are_delivered_after_it_starts_again() {
    let stand_in = ForgeStandIn::start();
    stand_in.fail_next(usize::MAX);
    let (repo, data) = served_repository(PIPELINE);
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let config = config_for(elsewhere.path(), repo.path(), Forge::Gitea, &stand_in, "");
    let server = start(elsewhere.path(), data.path(), &config);
    let (id, _) = run_main(&server);
    // Tried (so in the outbox) and refused with a 500, both of them.
    assert!(
        eventually(Duration::from_secs(30), || has_final_states(
            &stand_in,
            Forge::Gitea,
            Some(500)
        )),
        "{:#?}",
        stand_in.requests()
    );
    server.stop(Signal::SIGKILL);
    let killed_at = Instant::now();
    stand_in.fail_next(0);
    let server = start(elsewhere.path(), data.path(), &config);
    assert!(
        eventually(Duration::from_secs(30), || has_final_states(
            &stand_in,
            Forge::Gitea,
            Some(201)
        )),
        "{:#?}",
        stand_in.requests()
    );
    let after: Vec<Recorded> = stand_in
        .requests()
        .into_iter()
        .filter(|request| request.at > killed_at)
        .collect();
    assert!(!after.is_empty());
    for request in &after {
        assert_eq!(request.answered, 201);
        // The first server's run: only its outbox can have kept these.
        assert!(
            request.body["target_url"]
                .as_str()
                .is_some_and(|url| url.contains(&format!("/runs/{id}/jobs/"))),
            "{request:?}"
        );
        assert_ne!(
            request.body["state"], "pending",
            "only the latest state of a job"
        );
    }
    drop(server);
}

#[test]
fn a_wrong_status_config_is_invalid_input_saying_where_and_what() {
    let (repo, _) = served_repository(PIPELINE);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("serve.yml");
    let cases = [
        (
            "status: {kind: github, api: \"https://api.github.com\", repository: app, token: {environment: FORGE_TOKEN}}",
            vec![("FORGE_TOKEN", TOKEN)],
            "serve.yml:5:",
            "`app` is not a github repository: `owner/name`",
        ),
        (
            "status: {kind: bitbucket, api: \"https://x\", repository: o/a, token: {environment: FORGE_TOKEN}}",
            vec![("FORGE_TOKEN", TOKEN)],
            "serve.yml:5:",
            "bitbucket",
        ),
        (
            "status: {kind: gitea, api: \"https://gitea.example/api/v1\", repository: o/a, token: {environment: PIPEKIT_TEST_UNSET_TOKEN}}",
            vec![],
            "serve.yml: repository `app`: status token",
            "`PIPEKIT_TEST_UNSET_TOKEN` is not set",
        ),
    ];
    for (status, env, at, what) in cases {
        std::fs::write(
            &config,
            format!(
                "repositories:\n  app:\n    url: {}\n    poll: 0\n    {status}\n",
                repo.path().display()
            ),
        )
        .expect("write the config");
        let finished = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(dir.path().join("data"))
            .env_remove("PIPEKIT_TEST_UNSET_TOKEN")
            .envs(env)
            .current_dir(dir.path())
            .output()
            .expect("pipekit-ci runs");
        let stderr = String::from_utf8_lossy(&finished.stderr);
        assert_eq!(finished.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(at) && stderr.contains(what), "{stderr}");
    }
}
