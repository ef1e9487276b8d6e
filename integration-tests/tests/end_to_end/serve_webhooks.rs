//! Forge webhooks on `POST /hooks/{repository}` (spec 8), end to end: the built server
//! over a real git repository, the forges' documented payloads (`fixtures/webhooks/`) with
//! the repository's real commits in them, signed as each forge signs and sent by curl.

use crate::common::{Server, binary, commit_all, served_repository, workspace_root};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::path::Path;
use std::process::Command;

const SECRET: &str = "It's a Secret to Everybody";
const ZEROS: &str = "0000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forge {
    GitHub,
    Gitea,
    GitLab,
}

/// How a delivery is signed.
#[derive(Debug, Clone, Copy)]
enum Signed<'a> {
    With(&'a str),
    Not,
}

/// A forge's delivery of `event` with `body`, as that forge sends it.
fn deliver(
    server: &Server,
    repository: &str,
    forge: Forge,
    event: &str,
    delivery: &str,
    body: &[u8],
    signed: Signed<'_>,
) -> (u16, Value) {
    let mut headers = vec![
        "content-type: application/json".to_owned(),
        "User-Agent: forge-test".to_owned(),
    ];
    let signature = match signed {
        Signed::With(secret) => Some(hmac_hex(secret, body)),
        Signed::Not => None,
    };
    match forge {
        Forge::GitHub => {
            headers.push(format!("X-GitHub-Event: {event}"));
            headers.push(format!("X-GitHub-Delivery: {delivery}"));
            if let Some(signature) = signature {
                headers.push(format!("X-Hub-Signature-256: sha256={signature}"));
            }
        }
        Forge::Gitea => {
            // Gitea sends GitHub's headers as well as its own.
            headers.push(format!("X-GitHub-Event: {event}"));
            headers.push(format!("X-Gitea-Event: {event}"));
            headers.push(format!("X-Gitea-Delivery: {delivery}"));
            if let Some(signature) = signature {
                headers.push(format!("X-Gitea-Signature: {signature}"));
                headers.push(format!("X-Hub-Signature-256: sha256={signature}"));
            }
        }
        Forge::GitLab => {
            headers.push(format!("X-Gitlab-Event: {event}"));
            headers.push(format!("X-Gitlab-Event-UUID: {delivery}"));
            if let Signed::With(secret) = signed {
                headers.push(format!("X-Gitlab-Token: {secret}"));
            }
        }
    }
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    server.call_with(
        "POST",
        &format!("/hooks/{repository}"),
        &headers,
        Some(body),
    )
}

/// The hex HMAC-SHA256 of `body` under `secret`, as GitHub and Gitea sign.
fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A payload of `fixtures/webhooks/`, with the push's real values in it.
fn payload(file: &str, repository: &str, before: &str, after: &str) -> Vec<u8> {
    let path = workspace_root().join("fixtures/webhooks").join(file);
    let text = std::fs::read_to_string(&path).expect("the fixture");
    text.replace("@REF@", "refs/heads/main")
        .replace("@BEFORE@", before)
        .replace("@AFTER@", after)
        .replace("@REPOSITORY@", repository)
        .into_bytes()
}

fn push_fixture(forge: Forge) -> (&'static str, &'static str) {
    match forge {
        Forge::GitHub => ("github-push.json", "push"),
        Forge::Gitea => ("gitea-push.json", "push"),
        Forge::GitLab => ("gitlab-push.json", "Push Hook"),
    }
}

/// A server of the repository `app` (`repo`), polled never, whose webhooks are signed
/// with `SECRET` (`secret: true`) or not configured.
fn server_of_app(repo: &Path, data: &Path, config_dir: &Path, secret: bool) -> Server {
    let config = config_dir.join("serve.yml");
    let mut text = format!(
        "repositories:\n  app:\n    url: {}\n    poll: 0\n",
        repo.display()
    );
    if secret {
        text.push_str("    webhook_secret: {environment: APP_WEBHOOK_SECRET}\n");
    }
    std::fs::write(&config, text).expect("write the config");
    let config = config.to_str().expect("utf-8").to_owned();
    Server::start_with_env(
        config_dir,
        data,
        &["--config", &config],
        &[("APP_WEBHOOK_SECRET", SECRET)],
    )
}

fn runs(server: &Server) -> Vec<Value> {
    let (status, listed) = server.call("GET", "/api/v1/runs", None);
    assert_eq!(status, 200, "{listed}");
    listed["runs"].as_array().cloned().unwrap_or_default()
}

/// The ids a 202 says were queued.
fn queued(answer: &Value) -> Vec<i64> {
    answer["queued"]
        .as_array()
        .unwrap_or_else(|| panic!("no `queued` in {answer}"))
        .iter()
        .filter_map(Value::as_i64)
        .collect()
}

#[test]
fn signed_pushes_of_github_gitea_and_gitlab_are_queued_and_run_once_per_delivery() {
    let (repo, data) =
        served_repository("services:\n  hello:\n    command: echo $PIPEKIT_COMMIT\n");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let server = server_of_app(repo.path(), data.path(), config_dir.path(), true);
    let mut before = crate::common::git(repo.path(), &["rev-parse", "HEAD"]);
    for (n, forge) in [Forge::GitHub, Forge::Gitea, Forge::GitLab]
        .into_iter()
        .enumerate()
    {
        std::fs::write(repo.path().join("README"), format!("change {n}\n")).expect("write");
        let after = commit_all(repo.path(), &format!("Change {n}"));
        let (file, event) = push_fixture(forge);
        let body = payload(file, "app", &before, &after);
        let delivery = format!("delivery-{n}");
        let (status, answer) = deliver(
            &server,
            "app",
            forge,
            event,
            &delivery,
            &body,
            Signed::With(SECRET),
        );
        assert_eq!(status, 202, "{forge:?}: {answer}");
        let ids = queued(&answer);
        assert_eq!(ids.len(), 1, "{forge:?}: {answer}");
        let run = server.wait_for(ids[0], &["passed", "failed", "errored", "invalid"]);
        assert_eq!(run["status"], "passed", "{forge:?}: {run}");
        assert_eq!(
            (
                run["trigger"].as_str(),
                run["commit"].as_str(),
                run["branch"].as_str()
            ),
            (Some("webhook"), Some(after.as_str()), Some("main")),
            "{forge:?}: {run}"
        );

        // The forge sends it again (it does when unsure it arrived): nothing new.
        let (status, again) = deliver(
            &server,
            "app",
            forge,
            event,
            &delivery,
            &body,
            Signed::With(SECRET),
        );
        assert_eq!(status, 202, "{forge:?}: {again}");
        assert_eq!(queued(&again), Vec::<i64>::new(), "{again}");
        assert_eq!(again["repeated_delivery"], delivery.as_str(), "{again}");
        before = after;
    }
    assert_eq!(runs(&server).len(), 3);

    // What counts is the delivery id: the same one telling of another commit queues nothing.
    std::fs::write(repo.path().join("README"), "later\n").expect("write");
    let later = commit_all(repo.path(), "Later");
    let body = payload("github-push.json", "app", &before, &later);
    let (status, answer) = deliver(
        &server,
        "app",
        Forge::GitHub,
        "push",
        "delivery-0",
        &body,
        Signed::With(SECRET),
    );
    assert_eq!((status, queued(&answer)), (202, Vec::new()), "{answer}");
    assert_eq!(runs(&server).len(), 3);
}

#[test]
fn unsigned_and_wrongly_signed_webhooks_are_401_and_queue_nothing() {
    let (repo, data) = served_repository("services:\n  hello:\n    command: \"true\"\n");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let server = server_of_app(repo.path(), data.path(), config_dir.path(), true);
    let head = crate::common::git(repo.path(), &["rev-parse", "HEAD"]);
    let cases = [
        (
            Forge::GitHub,
            Signed::Not,
            "no `X-Hub-Signature-256` header",
        ),
        (Forge::GitHub, Signed::With("guess"), "does not match"),
        (Forge::Gitea, Signed::Not, "no `X-Gitea-Signature` header"),
        (Forge::Gitea, Signed::With("guess"), "does not match"),
        (Forge::GitLab, Signed::Not, "no `X-Gitlab-Token` header"),
        (
            Forge::GitLab,
            Signed::With("It's a Secret to Everybod"),
            "does not match",
        ),
    ];
    for (n, (forge, signed, reason)) in cases.into_iter().enumerate() {
        let (file, event) = push_fixture(forge);
        let body = payload(file, "app", ZEROS, &head);
        let delivery = format!("forged-{n}");
        let (status, answer) = deliver(&server, "app", forge, event, &delivery, &body, signed);
        assert_eq!(status, 401, "{forge:?} {signed:?}: {answer}");
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{forge:?} {signed:?}: {answer}");
    }

    // A body signed right, then changed on the way, is wrong too.
    let body = payload("github-push.json", "app", ZEROS, &head);
    let signature = hmac_hex(SECRET, &body);
    let mut changed = body.clone();
    changed.extend_from_slice(b"\n");
    let signature = format!("X-Hub-Signature-256: sha256={signature}");
    let (status, answer) = server.call_with(
        "POST",
        "/hooks/app",
        &[
            "X-GitHub-Event: push",
            "X-GitHub-Delivery: changed",
            &signature,
        ],
        Some(&changed),
    );
    assert_eq!(status, 401, "{answer}");
    assert_eq!(runs(&server), Vec::<Value>::new(), "nothing queued");

    // The forged ones did not use up their delivery ids: signed right, they go through.
    let (status, answer) = deliver(
        &server,
        "app",
        Forge::GitHub,
        "push",
        "forged-0",
        &body,
        Signed::With(SECRET),
    );
    assert_eq!((status, queued(&answer).len()), (202, 1), "{answer}");
}

#[test]
fn pings_deletions_bad_bodies_and_unknown_repositories_get_their_answers_and_the_server_goes_on() {
    let (repo, data) = served_repository("services:\n  hello:\n    command: \"true\"\n");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let server = server_of_app(repo.path(), data.path(), config_dir.path(), true);
    let head = crate::common::git(repo.path(), &["rev-parse", "HEAD"]);
    let signed = Signed::With(SECRET);

    let ping = payload("github-ping.json", "app", ZEROS, &head);
    let (status, answer) = deliver(&server, "app", Forge::GitHub, "ping", "p1", &ping, signed);
    assert_eq!(
        (status, &answer["pong"]),
        (200, &Value::from("GitHub")),
        "{answer}"
    );
    // A ping is signed too: a forged one is refused.
    let (status, _) = deliver(
        &server,
        "app",
        Forge::GitHub,
        "ping",
        "p2",
        &ping,
        Signed::Not,
    );
    assert_eq!(status, 401);
    let (status, answer) = deliver(
        &server,
        "app",
        Forge::GitLab,
        "Issue Hook",
        "i1",
        b"{}",
        signed,
    );
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["ignored"]
            .as_str()
            .is_some_and(|why| why.contains("Issue Hook")),
        "{answer}"
    );

    // A branch deleted: nothing to test.
    let deleted = payload("gitea-push.json", "app", &head, ZEROS);
    let (status, answer) = deliver(&server, "app", Forge::Gitea, "push", "d1", &deleted, signed);
    assert_eq!((status, queued(&answer)), (202, Vec::new()), "{answer}");

    let big = vec![b' '; 26 * 1024 * 1024];
    let cases: [(&str, &[u8], u16, &str); 4] = [
        ("app", b"{\"ref\": ", 400, "not what forges send"),
        ("app", b"[1, 2]", 400, "not what forges send"),
        (
            "app",
            br#"{"ref": "refs/heads/main", "before": "0000000000000000000000000000000000000000", "after": "HEAD~1"}"#,
            400,
            "not a commit id",
        ),
        ("nope", b"{}", 404, "no repository `nope`"),
    ];
    for (repository, body, expected, reason) in cases {
        let (status, answer) = deliver(
            &server,
            repository,
            Forge::GitHub,
            "push",
            "b",
            body,
            signed,
        );
        assert_eq!(
            status,
            expected,
            "{}: {answer}",
            String::from_utf8_lossy(body)
        );
        let error = answer["error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{answer}");
    }
    let (status, answer) = deliver(&server, "app", Forge::GitHub, "push", "big", &big, signed);
    assert_eq!(status, 413, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .is_some_and(|error| !error.is_empty()),
        "{answer}"
    );

    assert_eq!(runs(&server), Vec::<Value>::new(), "nothing queued");
    assert_eq!(server.call("GET", "/healthz", None).0, 200, "still serving");
    let body = payload("gitlab-push.json", "app", ZEROS, &head);
    let (status, answer) = deliver(
        &server,
        "app",
        Forge::GitLab,
        "Push Hook",
        "g1",
        &body,
        signed,
    );
    assert_eq!(
        (status, queued(&answer).len()),
        (202, 1),
        "still queueing: {answer}"
    );
}

#[test]
fn without_a_secret_forge_webhooks_are_taken_from_this_machine_unsigned() {
    let (repo, data) = served_repository("services:\n  hello:\n    command: \"true\"\n");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let server = server_of_app(repo.path(), data.path(), config_dir.path(), false);
    let head = crate::common::git(repo.path(), &["rev-parse", "HEAD"]);
    let body = payload("github-push.json", "app", ZEROS, &head);
    let (status, answer) = deliver(
        &server,
        "app",
        Forge::GitHub,
        "push",
        "local-1",
        &body,
        Signed::Not,
    );
    assert_eq!((status, queued(&answer).len()), (202, 1), "{answer}");
}

#[test]
fn a_webhook_secret_whose_variable_is_unset_is_invalid_input_naming_it() {
    let (repo, data) = served_repository("services:\n  hello:\n    command: \"true\"\n");
    let config_dir = tempfile::tempdir().expect("tempdir");
    let config = config_dir.path().join("serve.yml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  app:\n    url: {}\n    webhook_secret: {{environment: PIPEKIT_TEST_UNSET_SECRET}}\n",
            repo.path().display()
        ),
    )
    .expect("write the config");
    let finished = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&config)
        .arg("--data")
        .arg(data.path())
        .env_remove("PIPEKIT_TEST_UNSET_SECRET")
        .output()
        .expect("pipekit-ci runs");
    assert_eq!(finished.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&finished.stderr);
    assert!(
        stderr.contains("repository `app`: webhook_secret")
            && stderr.contains("`PIPEKIT_TEST_UNSET_SECRET` is not set"),
        "{stderr}"
    );
}
