//! The web UI's local users (spec 8), end to end: `pipekit-ci serve user add` with the
//! password on stdin, `POST /login` setting the session cookie, changes with the cookie
//! needing the CSRF token, `POST /logout` ending it; curl throughout.

use crate::common::{Server, binary, name_of, served_repository};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// `pipekit-ci serve user add NAME --role ROLE --data DATA` with `password` on stdin.
fn add_user(data: &Path, name: &str, role: &str, password: &str) -> (Option<i32>, String) {
    let mut child = Command::new(binary())
        .args(["serve", "user", "add", name, "--role", role, "--data"])
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pipekit-ci runs");
    let mut stdin = child.stdin.take().expect("piped stdin");
    stdin
        .write_all(format!("{password}\n").as_bytes())
        .expect("write the password");
    drop(stdin);
    let output = child.wait_with_output().expect("pipekit-ci ends");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `POST /login` as a form; the status, the `Set-Cookie` header and the JSON body.
fn login(server: &Server, name: &str, password: &str) -> (u16, String, Value) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let headers = scratch.path().join("headers");
    let output = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "-D"])
        .arg(&headers)
        .args(["--data-urlencode", &format!("name={name}")])
        .args(["--data-urlencode", &format!("password={password}")])
        .arg(format!("{}/login", server.url))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    let headers = std::fs::read_to_string(&headers).unwrap_or_default();
    let cookie = headers
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_default();
    (
        status.trim().parse().unwrap_or(0),
        cookie,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[test]
fn a_signed_in_operator_queues_with_the_csrf_token_and_not_without_and_signs_out() {
    let (repo, data) = served_repository("services:\n  a:\n    command: \"true\"\n");
    assert_eq!(
        add_user(data.path(), "ada", "operator", "correct horse").0,
        Some(0)
    );
    assert_eq!(
        add_user(data.path(), "vic", "viewer", "battery staple").0,
        Some(0)
    );
    let (code, stderr) = add_user(data.path(), "ada", "admin", "again");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("there is a user `ada` already"), "{stderr}");
    let (code, stderr) = add_user(data.path(), "eve", "operator", "");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no password"), "{stderr}");

    let server = Server::start(repo.path(), data.path());
    let queue = format!(
        r#"{{"repository": "{}", "ref": "main"}}"#,
        name_of(repo.path())
    );
    // A user is configured: this machine is no longer trusted without one.
    assert_eq!(server.call("POST", "/api/v1/runs", Some(&queue)).0, 401);

    let (status, _, answer) = login(&server, "ada", "correct hors");
    assert_eq!(status, 401, "{answer}");
    let (status, _, answer) = login(&server, "nobody", "correct horse");
    assert_eq!(status, 401, "{answer}");

    let (status, cookie, answer) = login(&server, "ada", "correct horse");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["role"], "operator", "{answer}");
    for part in ["pipekit_session=", "HttpOnly", "SameSite=Strict"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let session = cookie.split(';').next().expect("name=value").to_owned();
    let csrf = answer["csrf"].as_str().expect("a CSRF token").to_owned();
    let with_cookie = format!("Cookie: {session}");
    let with_csrf = format!("X-CSRF-Token: {csrf}");
    let json = "content-type: application/json";

    let post = |headers: &[&str]| {
        server.call_with("POST", "/api/v1/runs", headers, Some(queue.as_bytes()))
    };
    let (status, answer) = post(&[json, &with_cookie]);
    assert_eq!(status, 403, "no CSRF token: {answer}");
    let (status, answer) = post(&[json, &with_cookie, "X-CSRF-Token: 00"]);
    assert_eq!(status, 403, "a wrong CSRF token: {answer}");
    let (status, answer) = post(&[json, &with_cookie, &with_csrf]);
    assert_eq!(status, 201, "{answer}");
    let (status, _) = server.call_with("GET", "/api/v1/runs", &[&with_cookie], None);
    assert_eq!(status, 200);

    // A viewer signed in may look, not change.
    let (status, viewer_cookie, viewer) = login(&server, "vic", "battery staple");
    assert_eq!(status, 200, "{viewer}");
    let viewer_cookie = format!("Cookie: {}", viewer_cookie.split(';').next().unwrap_or(""));
    let viewer_csrf = format!("X-CSRF-Token: {}", viewer["csrf"].as_str().unwrap_or(""));
    let (status, answer) = post(&[json, &viewer_cookie, &viewer_csrf]);
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|e| e.contains("`vic` is a viewer")),
        "{answer}"
    );

    let (status, _) = server.call_with("POST", "/logout", &[&with_cookie], None);
    assert_eq!(status, 200);
    let (status, answer) = post(&[json, &with_cookie, &with_csrf]);
    assert_eq!(status, 401, "signed out: {answer}");
    assert_eq!(server.call("GET", "/healthz", None).0, 200);
}
