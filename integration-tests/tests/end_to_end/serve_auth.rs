//! API tokens and roles (spec 8, "Auth"), end to end: the built server with a config of
//! tokens whose values come from its environment, called by curl with and without them.

use crate::common::{Server, served_repository};
use serde_json::Value;
use std::path::Path;

const VIEWER: &str = "viewer-token-0c4f";
const OPERATOR: &str = "operator-token-9a1e";

/// A server of `repo` as `app` with a viewer's and an operator's token; `public` as given
/// (absent: the default).
fn server_with_tokens(repo: &Path, data: &Path, dir: &Path, public: Option<bool>) -> Server {
    let mut text = String::new();
    if let Some(public) = public {
        text.push_str(&format!("public: {public}\n"));
    }
    text.push_str(&format!(
        "tokens:\n  - {{name: wall, role: viewer, value: {{environment: WALL_TOKEN}}}}\n  - {{name: ci-bot, role: operator, value: {{environment: BOT_TOKEN}}}}\nrepositories:\n  app:\n    url: {}\n    poll: 0\n",
        repo.display()
    ));
    let config = dir.join("serve.yml");
    std::fs::write(&config, text).expect("write the config");
    let config = config.to_str().expect("utf-8").to_owned();
    Server::start_with_env(
        dir,
        data,
        &["--config", &config],
        &[("WALL_TOKEN", VIEWER), ("BOT_TOKEN", OPERATOR)],
    )
}

/// `curl` with `Authorization: Bearer <token>` (or none), JSON body if given.
fn call_as(
    server: &Server,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, Value) {
    let authorization = token.map(|token| format!("Authorization: Bearer {token}"));
    let mut headers: Vec<&str> = authorization.iter().map(String::as_str).collect();
    if body.is_some() {
        headers.push("content-type: application/json");
    }
    server.call_with(method, path, &headers, body.map(str::as_bytes))
}

fn error_of(answer: &Value) -> &str {
    answer["error"].as_str().unwrap_or_default()
}

#[test]
fn an_operator_queues_and_cancels_a_viewer_may_only_look_and_nobody_else_may_do_either() {
    let (repo, data) = served_repository("services:\n  slow:\n    command: sleep 300\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server_with_tokens(repo.path(), data.path(), dir.path(), Some(false));
    let queue = r#"{"repository": "app", "ref": "main"}"#;

    // Not public: reads need a token, any role's.
    let (status, answer) = call_as(&server, None, "GET", "/api/v1/runs", None);
    assert_eq!(status, 401, "{answer}");
    assert!(error_of(&answer).contains("Bearer"), "{answer}");
    for path in [
        "/api/v1/queue",
        "/metrics",
        "/badge/app/main.svg",
        "/api/v1/runs/1",
    ] {
        assert_eq!(call_as(&server, None, "GET", path, None).0, 401, "{path}");
    }
    assert_eq!(
        call_as(&server, Some(VIEWER), "GET", "/api/v1/runs", None).0,
        200
    );
    // The health check stays open, for load balancers and probes.
    assert_eq!(call_as(&server, None, "GET", "/healthz", None).0, 200);

    // Tokens are configured: no token is 401, even from this machine.
    let (status, answer) = call_as(&server, None, "POST", "/api/v1/runs", Some(queue));
    assert_eq!(status, 401, "{answer}");
    let (status, answer) = call_as(&server, Some(VIEWER), "POST", "/api/v1/runs", Some(queue));
    assert_eq!(status, 403, "{answer}");
    assert!(
        error_of(&answer).contains("`wall` is a viewer's"),
        "{answer}"
    );
    let (status, answer) = call_as(
        &server,
        Some("operator-token-9a1"),
        "POST",
        "/api/v1/runs",
        Some(queue),
    );
    assert_eq!(status, 401, "a token that is almost right: {answer}");
    assert!(error_of(&answer).contains("no such token"), "{answer}");
    let (_, listed) = call_as(&server, Some(VIEWER), "GET", "/api/v1/runs", None);
    assert_eq!(
        listed["runs"],
        Value::Array(Vec::new()),
        "nothing queued: {listed}"
    );

    let (status, answer) = call_as(&server, Some(OPERATOR), "POST", "/api/v1/runs", Some(queue));
    assert_eq!(status, 201, "{answer}");
    let id = answer["id"].as_i64().expect("an id");
    let cancel = format!("/api/v1/runs/{id}/cancel");
    let (status, answer) = call_as(&server, Some(VIEWER), "POST", &cancel, None);
    assert_eq!(status, 403, "{answer}");
    assert_eq!(call_as(&server, None, "POST", &cancel, None).0, 401);
    let (status, run) = call_as(
        &server,
        Some(VIEWER),
        "GET",
        &format!("/api/v1/runs/{id}"),
        None,
    );
    assert_eq!(status, 200);
    assert!(
        run["status"] == "queued" || run["status"] == "running",
        "not cancelled by those who may not: {run}"
    );
    let (status, answer) = call_as(&server, Some(OPERATOR), "POST", &cancel, None);
    assert_eq!(status, 202, "{answer}");
    let mut run = Value::Null;
    let ended = crate::common::eventually(std::time::Duration::from_secs(30), || {
        run = call_as(
            &server,
            Some(VIEWER),
            "GET",
            &format!("/api/v1/runs/{id}"),
            None,
        )
        .1;
        run["status"] == "cancelled"
    });
    assert!(ended, "{run}");

    // An Authorization that is no bearer token is refused, not ignored.
    let (status, answer) = server.call_with(
        "GET",
        "/api/v1/runs",
        &["Authorization: Basic d2FsbDp4"],
        None,
    );
    assert_eq!(status, 401, "{answer}");
    assert!(error_of(&answer).contains("Bearer <token>"), "{answer}");
}

#[test]
fn on_loopback_reads_are_public_by_default_but_changes_still_need_a_token() {
    let (repo, data) = served_repository("services:\n  a:\n    command: \"true\"\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server_with_tokens(repo.path(), data.path(), dir.path(), None);
    assert_eq!(call_as(&server, None, "GET", "/api/v1/runs", None).0, 200);
    assert_eq!(call_as(&server, None, "GET", "/api/v1/queue", None).0, 200);
    let queue = r#"{"repository": "app", "ref": "main"}"#;
    assert_eq!(
        call_as(&server, None, "POST", "/api/v1/runs", Some(queue)).0,
        401
    );
    let (status, answer) = call_as(&server, Some(OPERATOR), "POST", "/api/v1/runs", Some(queue));
    assert_eq!(status, 201, "{answer}");
}

#[test]
fn a_token_whose_variable_is_unset_stops_the_start_naming_it() {
    let (repo, data) = served_repository("services:\n  a:\n    command: \"true\"\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("serve.yml");
    std::fs::write(
        &config,
        format!(
            "tokens:\n  - {{name: ci-bot, role: operator, value: {{environment: PIPEKIT_TEST_UNSET_TOKEN}}}}\nrepositories:\n  app:\n    url: {}\n",
            repo.path().display()
        ),
    )
    .expect("write the config");
    let finished = std::process::Command::new(crate::common::binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(data.path())
        .env_remove("PIPEKIT_TEST_UNSET_TOKEN")
        .output()
        .expect("pipekit-ci runs");
    assert_eq!(finished.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&finished.stderr);
    assert!(
        stderr.contains("token `ci-bot`")
            && stderr.contains("`PIPEKIT_TEST_UNSET_TOKEN` is not set"),
        "{stderr}"
    );
}
