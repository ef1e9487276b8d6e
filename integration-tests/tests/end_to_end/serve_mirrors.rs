//! Repositories that live elsewhere (spec 8): a `file://`, `git://`, `http://` or
//! `https://` URL is mirrored under `<data>/mirrors/<name>.git` and fetched before each poll
//! and each hook notice; an origin that does not answer is shown and tried again while the
//! others are served.

use crate::common::{
    Server, binary, commit_all, eventually, free_port, git, init_and_commit, python3_available,
    served_repository,
};
use serde_json::{Value, json};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A bare origin `origin.git` in its own folder, and a work clone that pushes to it, with
/// `pipekit.yml` echoing `text` committed on `main`.
struct Origin {
    dir: tempfile::TempDir,
    work: PathBuf,
}

impl Origin {
    fn new(text: &str) -> Origin {
        let dir = tempfile::tempdir().expect("tempdir");
        git(
            dir.path(),
            &["init", "-q", "--bare", "-b", "main", "origin.git"],
        );
        let work = dir.path().join("work");
        std::fs::create_dir(&work).expect("a work folder");
        std::fs::write(work.join("pipekit.yml"), pipeline(text)).expect("the pipeline");
        init_and_commit(&work, "First");
        let bare = dir.path().join("origin.git");
        git(
            &work,
            &["remote", "add", "origin", bare.to_str().expect("utf-8")],
        );
        git(&work, &["push", "-q", "origin", "main"]);
        Origin { dir, work }
    }

    fn bare(&self) -> PathBuf {
        self.dir.path().join("origin.git")
    }

    fn file_url(&self) -> String {
        format!("file://{}", self.bare().display())
    }

    /// Commits a pipeline echoing `text` and pushes it; the commit's sha.
    fn push(&self, text: &str) -> String {
        std::fs::write(self.work.join("pipekit.yml"), pipeline(text)).expect("the pipeline");
        let sha = commit_all(&self.work, text);
        git(&self.work, &["push", "-q", "origin", "main"]);
        sha
    }
}

fn pipeline(text: &str) -> String {
    format!("services:\n  a:\n    command: echo {text}\n")
}

/// `git daemon` serving the bare repositories in `base` on a loopback `port`; killed when
/// dropped.
struct GitDaemon {
    child: Child,
}

impl GitDaemon {
    fn start(base: &Path, port: u16) -> GitDaemon {
        // `git-daemon` itself, not `git daemon`: `git` would run it as a child of its own,
        // which killing `git` would leave behind.
        let program = Path::new(&git(base, &["--exec-path"])).join("git-daemon");
        let child = Command::new(program)
            .args(["--export-all", "--reuseaddr", "--listen=127.0.0.1"])
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let daemon = GitDaemon { child };
        assert!(
            eventually(Duration::from_secs(10), || TcpStream::connect((
                "127.0.0.1",
                port
            ))
            .is_ok()),
            "git daemon never listened on {port}"
        );
        daemon
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Smart HTTP: `git http-backend` for the bare repositories in `base`, at
/// `http://127.0.0.1:<port>/<name>` (or `https://`, with a certificate), behind a small Python server that runs it per request
/// as a CGI script (and sends its answers with a length, which libgit2 wants); killed when
/// dropped.
struct HttpBackend {
    child: Child,
}

const HTTP_BACKEND: &str = r#"
import http.server, os, subprocess, sys

class Backend(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.backend()

    def do_POST(self):
        self.backend()

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)[:size]
                if size == 0:
                    return body
                body += chunk
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def backend(self):
        path, _, query = self.path.partition("?")
        body = self.body()
        env = dict(os.environ, GIT_PROJECT_ROOT=sys.argv[1], GIT_HTTP_EXPORT_ALL="1",
                   REQUEST_METHOD=self.command, PATH_INFO=path, QUERY_STRING=query,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(body)), REMOTE_ADDR="127.0.0.1")
        out = subprocess.run(["git", "http-backend"], input=body, env=env,
                             capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status, headers = 200, []
        for line in head.decode().split("\r\n"):
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass

server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Backend)
if len(sys.argv) > 4:
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(sys.argv[3], sys.argv[4])
    server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

impl HttpBackend {
    fn start(base: &Path, port: u16) -> HttpBackend {
        HttpBackend::start_with(base, port, &[])
    }

    /// Over TLS with `certificate` (and its key `key`), both PEM files.
    fn start_tls(base: &Path, port: u16, certificate: &Path, key: &Path) -> HttpBackend {
        HttpBackend::start_with(base, port, &[certificate, key])
    }

    fn start_with(base: &Path, port: u16, tls: &[&Path]) -> HttpBackend {
        let child = Command::new("python3")
            .args(["-c", HTTP_BACKEND])
            .arg(base)
            .arg(port.to_string())
            .args(tls)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 starts");
        let backend = HttpBackend { child };
        assert!(
            eventually(Duration::from_secs(10), || TcpStream::connect((
                "127.0.0.1",
                port
            ))
            .is_ok()),
            "the HTTP server never listened on {port}"
        );
        backend
    }
}

impl Drop for HttpBackend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server over `repositories` (name, url, poll seconds), with its config and data in
/// folders of its own.
struct Mirrored {
    server: Server,
    data: tempfile::TempDir,
    _config_dir: tempfile::TempDir,
}

impl Mirrored {
    fn start(repositories: &[(&str, &str, f64)]) -> Mirrored {
        Mirrored::start_with_env(repositories, &[])
    }

    /// With the environment variables `env` besides the test's own.
    fn start_with_env(repositories: &[(&str, &str, f64)], env: &[(&str, &str)]) -> Mirrored {
        let config_dir = tempfile::tempdir().expect("tempdir");
        let data = tempfile::tempdir().expect("tempdir");
        let mut text = String::from("repositories:\n");
        for (name, url, poll) in repositories {
            text.push_str(&format!(
                "  {name}:\n    url: \"{url}\"\n    poll: {poll}\n"
            ));
        }
        let config = config_dir.path().join("serve.yml");
        std::fs::write(&config, text).expect("write the config");
        let config = config.to_str().expect("utf-8").to_owned();
        let server =
            Server::start_with_env(config_dir.path(), data.path(), &["--config", &config], env);
        Mirrored {
            server,
            data,
            _config_dir: config_dir,
        }
    }

    fn mirror(&self, name: &str) -> PathBuf {
        self.data.path().join("mirrors").join(format!("{name}.git"))
    }

    /// The mirror's `main`, if it has one yet.
    fn mirrored_main(&self, name: &str) -> Option<String> {
        let found = Command::new("git")
            .arg("--git-dir")
            .arg(self.mirror(name))
            .args(["rev-parse", "--verify", "-q", "refs/heads/main"])
            .output()
            .ok()?;
        found
            .status
            .success()
            .then(|| String::from_utf8_lossy(&found.stdout).trim().to_owned())
    }

    /// `GET /api/v1/repositories`'s entry for `name`.
    fn listed(&self, name: &str) -> Value {
        let (status, body) = self.server.call("GET", "/api/v1/repositories", None);
        assert_eq!(status, 200, "{body}");
        body["repositories"]
            .as_array()
            .and_then(|all| all.iter().find(|entry| entry["name"] == name).cloned())
            .unwrap_or_default()
    }

    /// The passed run of `commit` in `repository`, once there is one.
    fn wait_for_passed(&self, repository: &str, commit: &str) -> Value {
        let mut listed = Value::Null;
        let ran = eventually(Duration::from_secs(30), || {
            let query = format!("/api/v1/runs?repository={repository}&status=passed");
            listed = self.server.call("GET", &query, None).1;
            listed["runs"]
                .as_array()
                .is_some_and(|runs| runs.iter().any(|run| run["commit"] == commit))
        });
        assert!(ran, "{commit} of {repository} was not run: {listed}");
        listed["runs"]
            .as_array()
            .and_then(|runs| runs.iter().find(|run| run["commit"] == commit).cloned())
            .unwrap_or_default()
    }

    /// The log of job `a` of run `id`.
    fn log_of(&self, id: &Value) -> String {
        let (_, log) = self
            .server
            .call("GET", &format!("/api/v1/runs/{id}/jobs/a/log"), None);
        log.as_str().map(str::to_owned).unwrap_or(log.to_string())
    }
}

/// Once `name`'s mirror has the origin's `main` the first poll has learned the branches:
/// a push after that is new to the next one.
fn wait_until_mirrored(served: &Mirrored, name: &str, sha: &str) {
    assert!(
        eventually(Duration::from_secs(15), || served
            .mirrored_main(name)
            .as_deref()
            == Some(sha)),
        "the mirror of {name} never got {sha}: {}",
        served.listed(name)
    );
}

#[test]
fn a_file_url_is_mirrored_under_the_data_folder_and_its_pushes_are_polled_and_run() {
    let origin = Origin::new("first");
    let first = git(&origin.work, &["rev-parse", "HEAD"]);
    let url = origin.file_url();
    let served = Mirrored::start(&[("app", &url, 0.2)]);
    wait_until_mirrored(&served, "app", &first);
    let listed = served.listed("app");
    assert_eq!(listed["mirror_of"], url.as_str(), "{listed}");
    assert_eq!(
        listed["path"],
        served.mirror("app").display().to_string(),
        "{listed}"
    );

    let second = origin.push("from-the-origin");
    let run = served.wait_for_passed("app", &second);
    assert_eq!(run["trigger"], "poll", "{run}");
    assert_eq!(run["branch"], "main", "{run}");
    assert!(
        served.log_of(&run["id"]).contains("from-the-origin"),
        "the origin's pipeline ran"
    );
    assert_eq!(
        served.mirrored_main("app").as_deref(),
        Some(second.as_str())
    );
}

#[test]
fn a_git_daemon_url_is_fetched_and_run() {
    let origin = Origin::new("first");
    let first = git(&origin.work, &["rev-parse", "HEAD"]);
    let port = free_port();
    let _daemon = GitDaemon::start(origin.dir.path(), port);
    let url = format!("git://127.0.0.1:{port}/origin.git");
    let served = Mirrored::start(&[("app", &url, 0.2)]);
    wait_until_mirrored(&served, "app", &first);

    let second = origin.push("over-git-protocol");
    let run = served.wait_for_passed("app", &second);
    assert!(
        served.log_of(&run["id"]).contains("over-git-protocol"),
        "the origin's pipeline ran"
    );
    assert!(served.listed("app")["problem"].is_null());
}

#[test]
fn an_http_url_is_fetched_through_smart_http_and_run() {
    if !python3_available() {
        eprintln!("skipped: no python3 to put git http-backend behind");
        return;
    }
    let origin = Origin::new("first");
    let first = git(&origin.work, &["rev-parse", "HEAD"]);
    let port = free_port();
    let _backend = HttpBackend::start(origin.dir.path(), port);
    let url = format!("http://127.0.0.1:{port}/origin.git");
    let served = Mirrored::start(&[("app", &url, 0.2)]);
    wait_until_mirrored(&served, "app", &first);

    let second = origin.push("over-smart-http");
    let run = served.wait_for_passed("app", &second);
    assert!(
        served.log_of(&run["id"]).contains("over-smart-http"),
        "the origin's pipeline ran"
    );
}

/// A self-signed certificate for `127.0.0.1` and its key, made with `openssl`; `None`
/// without it.
fn self_signed_certificate(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let (certificate, key) = (dir.join("certificate.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    made.status.success().then_some((certificate, key))
}

#[test]
fn an_https_url_is_fetched_with_the_certificates_the_server_trusts() {
    let certificates = tempfile::tempdir().expect("tempdir");
    let Some((certificate, key)) =
        self_signed_certificate(certificates.path()).filter(|_| python3_available())
    else {
        eprintln!("skipped: no openssl to make a certificate or no python3 to serve https");
        return;
    };
    let origin = Origin::new("first");
    let first = git(&origin.work, &["rev-parse", "HEAD"]);
    let port = free_port();
    let _backend = HttpBackend::start_tls(origin.dir.path(), port, &certificate, &key);
    let url = format!("https://127.0.0.1:{port}/origin.git");

    // A certificate nobody vouches for is refused, and shown.
    let untrusting = Mirrored::start(&[("app", &url, 0.2)]);
    assert!(
        eventually(Duration::from_secs(15), || {
            untrusting.listed("app")["problem"]["text"]
                .as_str()
                .is_some_and(|text| {
                    text.contains("cannot fetch") && text.to_lowercase().contains("certificate")
                })
        }),
        "the untrusted certificate is shown: {}",
        untrusting.listed("app")
    );
    assert_eq!(untrusting.mirrored_main("app"), None);
    drop(untrusting);

    // Trusted (OpenSSL's SSL_CERT_FILE, as for any OpenSSL program): fetched and run.
    let trusted = certificate.to_str().expect("utf-8");
    let served = Mirrored::start_with_env(&[("app", &url, 0.2)], &[("SSL_CERT_FILE", trusted)]);
    wait_until_mirrored(&served, "app", &first);
    let second = origin.push("over-https");
    let run = served.wait_for_passed("app", &second);
    assert!(
        served.log_of(&run["id"]).contains("over-https"),
        "the origin's pipeline ran"
    );
}

#[test]
fn an_origin_down_at_the_start_is_shown_the_others_served_and_fetched_once_it_answers() {
    let origin = Origin::new("first");
    let first = git(&origin.work, &["rev-parse", "HEAD"]);
    let port = free_port();
    let url = format!("git://127.0.0.1:{port}/origin.git");
    let (lib, _) = served_repository(&pipeline("lib"));
    let lib_path = lib.path().display().to_string();
    // No daemon yet: the server starts all the same.
    let served = Mirrored::start(&[("app", &url, 0.2), ("lib", &lib_path, 0.2)]);
    assert!(
        eventually(Duration::from_secs(15), || served.listed("app")["problem"]
            ["text"]
            .as_str()
            .is_some_and(
                |text| text.contains("cannot fetch") && text.contains(&url)
            )),
        "the failed fetch is shown: {}",
        served.listed("app")
    );
    let (status, page) = served.server.call("GET", "/repositories", None);
    assert_eq!(status, 200);
    assert!(page.to_string().contains("Cannot be read since"), "{page}");

    // The other repository is served: its push is polled and run.
    assert!(eventually(Duration::from_secs(10), || served.listed("lib")
        ["problem"]
        .is_null()));
    std::fs::write(lib.path().join("pipekit.yml"), pipeline("lib-again")).expect("write");
    let lib_commit = commit_all(lib.path(), "Again");
    served.wait_for_passed("lib", &lib_commit);

    // The origin answers: the next poll fetches it, the problem goes, its pushes run.
    let _daemon = GitDaemon::start(origin.dir.path(), port);
    wait_until_mirrored(&served, "app", &first);
    assert!(
        eventually(Duration::from_secs(10), || served.listed("app")["problem"]
            .is_null()),
        "the problem clears once a fetch works: {}",
        served.listed("app")
    );
    let second = origin.push("once-it-answers");
    served.wait_for_passed("app", &second);
}

#[test]
fn a_push_notice_for_a_mirror_fetches_first_so_the_pushed_commit_is_found() {
    let origin = Origin::new("first");
    let first = git(&origin.work, &["rev-parse", "HEAD"]);
    let url = origin.file_url();
    // No poll: only the notice can bring the commit in.
    let served = Mirrored::start(&[("app", &url, 0.0)]);
    wait_until_mirrored(&served, "app", &first);
    let second = origin.push("told-by-the-hook");
    assert_ne!(
        served.mirrored_main("app").as_deref(),
        Some(second.as_str())
    );

    let notice = |after: &str| {
        json!({"updates": [{"ref": "refs/heads/main", "before": first, "after": after}]})
            .to_string()
    };
    let headers = ["X-Pipekit-Event: push", "content-type: application/json"];
    let (status, told) = served.server.call_with(
        "POST",
        "/hooks/app",
        &headers,
        Some(notice(&second).as_bytes()),
    );
    assert_eq!(status, 202, "{told}");
    assert_eq!(told["queued"].as_array().map(Vec::len), Some(1), "{told}");
    let run = served.wait_for_passed("app", &second);
    assert_eq!(run["trigger"], "hook", "{run}");
    assert!(served.log_of(&run["id"]).contains("told-by-the-hook"));

    // A run asked for by ref fetches too: `main` is the origin's, pushed since.
    let third = origin.push("asked-for-by-hand");
    let (status, answer) = served.server.call(
        "POST",
        "/api/v1/runs",
        Some(r#"{"repository": "app", "ref": "main"}"#),
    );
    assert_eq!(status, 201, "{answer}");
    served.wait_for_passed("app", &third);

    // The origin gone: the notice is a 502 (a forge would deliver again), and it is shown.
    std::fs::rename(origin.bare(), origin.dir.path().join("moved.git")).expect("move");
    let (status, told) = served.server.call_with(
        "POST",
        "/hooks/app",
        &headers,
        Some(notice(&second).as_bytes()),
    );
    assert_eq!(status, 502, "{told}");
    assert!(
        told["error"]
            .as_str()
            .is_some_and(|error| error.contains("cannot fetch")),
        "{told}"
    );
    assert!(served.listed("app")["problem"]["text"].is_string());
    // So is a run asked for by ref: the origin's `main` cannot be known.
    let (status, answer) = served.server.call(
        "POST",
        "/api/v1/runs",
        Some(r#"{"repository": "app", "ref": "main"}"#),
    );
    assert_eq!(status, 502, "{answer}");
}

#[test]
fn a_url_the_server_cannot_fetch_with_is_refused_at_its_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("serve.yml");
    let cases = [
        (
            "https://me:s3cret@git.example/app.git",
            "has a password in it",
        ),
        ("ssh://git@git.example/app.git", "ssh is not supported"),
        (
            "file://relative/app.git",
            "not a file:// URL of an absolute path",
        ),
    ];
    for (url, why) in cases {
        std::fs::write(&config, format!("repositories:\n  app:\n    url: {url}\n")).expect("write");
        let finished = Command::new(binary())
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data")
            .arg(dir.path().join("data"))
            .output()
            .expect("pipekit-ci runs");
        let stderr = String::from_utf8_lossy(&finished.stderr);
        assert_eq!(finished.status.code(), Some(2), "{url}: {stderr}");
        let at = format!("{}:3:10: repository `app`: `{url}`", config.display());
        assert!(stderr.contains(&at), "{url}: {stderr}");
        assert!(stderr.contains(why), "{url}: {stderr}");
    }
}

#[test]
fn a_forge_webhook_for_a_mirror_fetches_first_and_a_failed_fetch_leaves_the_delivery_to_retry() {
    let origin = Origin::new("first");
    let first = git(&origin.work, &["rev-parse", "HEAD"]);
    let url = origin.file_url();
    let served = Mirrored::start(&[("app", &url, 0.0)]);
    wait_until_mirrored(&served, "app", &first);
    let second = origin.push("told-by-the-forge");
    let push = json!({"ref": "refs/heads/main", "before": first, "after": second}).to_string();
    let deliver = |delivery: &str| {
        let delivery = format!("X-GitHub-Delivery: {delivery}");
        let headers = [
            "X-GitHub-Event: push",
            delivery.as_str(),
            "content-type: application/json",
        ];
        served
            .server
            .call_with("POST", "/hooks/app", &headers, Some(push.as_bytes()))
    };

    // The origin away: a 502, and the delivery id is not used up.
    let moved = origin.dir.path().join("moved.git");
    std::fs::rename(origin.bare(), &moved).expect("move");
    let (status, answer) = deliver("d-1");
    assert_eq!(status, 502, "{answer}");

    // The forge delivers again once the origin is back: fetched, found, run.
    std::fs::rename(&moved, origin.bare()).expect("move back");
    let (status, answer) = deliver("d-1");
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        answer["queued"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );
    let run = served.wait_for_passed("app", &second);
    assert_eq!(run["trigger"], "webhook", "{run}");
    assert!(served.listed("app")["problem"].is_null());
}
