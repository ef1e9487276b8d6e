//! `pipekit-ci serve` started as a user starts it, on a loopback port, and called with curl.

use super::{binary, eventually, init_and_commit};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running server, killed when dropped if still up.
pub struct Server {
    child: Child,
    pub url: String,
}

impl Server {
    /// Starts `pipekit-ci serve` in `repo` with its data in `data`; waits for its address.
    pub fn start(repo: &Path, data: &Path) -> Server {
        Server::start_with(repo, data, &[])
    }

    pub fn start_with(repo: &Path, data: &Path, more: &[&str]) -> Server {
        Server::start_with_env(repo, data, more, &[])
    }

    /// Started in `dir` with the arguments `more` and the environment variables `env`
    /// besides the test's own.
    pub fn start_with_env(dir: &Path, data: &Path, more: &[&str], env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(more)
            .envs(env.iter().copied())
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start pipekit-ci serve");
        let stderr = child.stderr.take().expect("piped stderr");
        // Killed when dropped, also if no address comes.
        let mut server = Server {
            child,
            url: String::new(),
        };
        let mut lines = BufReader::new(stderr).lines();
        let url = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.split_whitespace()
                    .find(|word| word.starts_with("http://"))
                    .map(|word| word.trim_end_matches(',').to_owned())
            })
            .expect("pipekit-ci serve printed no address");
        // The rest of its stderr is drained, so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        server.url = url;
        server
    }

    /// `curl` of `path`; the status and the JSON body.
    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
        let headers: &[&str] = match body {
            Some(_) => &["content-type: application/json"],
            None => &[],
        };
        self.call_with(method, path, headers, body.map(str::as_bytes))
    }

    /// `curl` of `path` with `headers` (`Name: value`) and `body` sent byte for byte; the
    /// status and the JSON body (a string if it is none).
    pub fn call_with(
        &self,
        method: &str,
        path: &str,
        headers: &[&str],
        body: Option<&[u8]>,
    ) -> (u16, Value) {
        let mut curl = Command::new("curl");
        curl.args(["-s", "-X", method, "-w", "\n%{http_code}"])
            .arg(format!("{}{path}", self.url));
        for header in headers {
            curl.args(["-H", header]);
        }
        // From a file: curl sends it as it is, however large (an argument has a limit).
        let file = body.map(|body| {
            let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
            file.write_all(body).expect("write the body");
            file
        });
        if let Some(file) = &file {
            curl.arg("--data-binary")
                .arg(format!("@{}", file.path().display()));
        }
        let output = curl.output().expect("curl runs");
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
        let status = status.trim().parse().unwrap_or(0);
        (
            status,
            serde_json::from_str(body).unwrap_or(Value::String(body.to_owned())),
        )
    }

    /// Queues the tip of `branch` of `repository` by hand; the first run's id.
    pub fn queue_branch(&self, repository: &str, branch: &str) -> i64 {
        let body = format!(r#"{{"repository": "{repository}", "ref": "{branch}"}}"#);
        let (status, queued) = self.call("POST", "/api/v1/runs", Some(&body));
        assert_eq!(status, 201, "{queued}");
        queued["id"].as_i64().expect("an id")
    }

    /// `curl` of `path` as a browser would get it: the status, the headers (names in lower
    /// case) and the body as bytes.
    pub fn fetch(&self, path: &str) -> Fetched {
        let output = Command::new("curl")
            .args(["-s", "-D", "/dev/stderr"])
            .arg(format!("{}{path}", self.url))
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
        Fetched {
            status,
            headers,
            body: output.stdout,
        }
    }

    pub fn run(&self, id: i64) -> Value {
        self.call("GET", &format!("/api/v1/runs/{id}"), None).1
    }

    /// The run once its status is one of `statuses`.
    pub fn wait_for(&self, id: i64, statuses: &[&str]) -> Value {
        let mut last = Value::Null;
        let reached = eventually(Duration::from_secs(60), || {
            last = self.run(id);
            statuses.iter().any(|status| last["status"] == *status)
        });
        assert!(reached, "run {id} never got to {statuses:?}: {last}");
        last
    }

    pub fn stop(mut self, signal: Signal) -> Option<i32> {
        let pid = Pid::from_raw(self.child.id() as i32);
        let _ = kill(pid, signal);
        self.child.wait().ok().and_then(|status| status.code())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A repository with `pipeline` as its `pipekit.yml`, committed on `main`, and a data
/// folder for its server.
pub fn served_repository(pipeline: &str) -> (tempfile::TempDir, tempfile::TempDir) {
    let repo = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("pipekit.yml"), pipeline).expect("write the pipeline");
    init_and_commit(repo.path(), "First");
    (repo, data)
}

/// The repository's name as the server calls it: its folder's.
pub fn name_of(repo: &Path) -> String {
    repo.file_name()
        .expect("a folder")
        .to_string_lossy()
        .replace(
            |c: char| !(c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "-",
        )
        .trim_start_matches('.')
        .to_owned()
}

/// An answer as [`Server::fetch`] got it.
pub struct Fetched {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}
