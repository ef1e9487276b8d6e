//! The web UI's pages as any HTTP client gets them: each page is HTML with the run's data,
//! what a commit or a job says is shown as text (never as markup), and no path parameter
//! reaches a file it should not.

use crate::common::{Server, commit_all, name_of, served_repository};

/// The status and the body as text.
fn page(server: &Server, path: &str) -> (u16, String) {
    let answer = server.fetch(path);
    (answer.status, answer.text())
}

#[test]
fn pages_show_runs_with_their_words_as_text_and_refuse_paths_out_of_the_run() {
    let hostile = "<script>alert(1)</script>";
    let (repo, data) = served_repository(&format!(
        "services:\n  build:\n    command: echo '{hostile}'\n"
    ));
    std::fs::write(repo.path().join("notes.txt"), "a change").expect("write");
    commit_all(repo.path(), &format!("Fix {hostile} & more"));
    let server = Server::start(repo.path(), data.path());
    let id = server.queue_branch(&name_of(repo.path()), "main");
    server.wait_for(id, &["passed"]);

    for path in [
        "/".to_owned(),
        format!("/runs/{id}"),
        format!("/runs/{id}/jobs/build"),
        "/queue".to_owned(),
        "/repositories".to_owned(),
        "/login".to_owned(),
    ] {
        let (status, html) = page(&server, &path);
        assert_eq!(status, 200, "{path}: {html}");
        assert!(html.starts_with("<!doctype html>"), "{path}");
        assert!(
            !html.contains(hostile),
            "{path} shows markup from a commit as markup"
        );
    }
    let (_, list) = page(&server, "/");
    assert!(
        list.contains("Fix &#60;script&#62;alert(1)&#60;/script&#62; &#38; more"),
        "{list}"
    );
    let (_, run) = page(&server, &format!("/runs/{id}"));
    assert!(run.contains("<svg class=\"job-graph\"") && run.contains("<svg class=\"timeline\""));
    assert!(
        run.contains(
            "href=\"/runs/{id}/jobs/build\""
                .replace("{id}", &id.to_string())
                .as_str()
        )
    );
    let (status, script) = page(&server, "/static/app.js");
    assert_eq!(status, 200);
    assert!(script.contains("EventSource"));

    for path in [
        "/static/..%2F..%2FCargo.toml".to_owned(),
        "/static/../../Cargo.toml".to_owned(),
        format!("/runs/{id}/jobs/..%2F..%2F..%2Fpipekit.db"),
        format!("/runs/{id}/jobs/nope"),
        "/runs/0".to_owned(),
        "/runs/abc".to_owned(),
        "/runs/99999".to_owned(),
        "/?status=sideways".to_owned(),
        "/?nope=1".to_owned(),
        "/login?next=//evil.example".to_owned(),
    ] {
        let (status, html) = page(&server, &path);
        if path.starts_with("/login") {
            assert_eq!(status, 200);
            assert!(
                !html.contains("evil.example"),
                "a sign-in never sends people off the site"
            );
            continue;
        }
        assert!((400..500).contains(&status), "{path}: {status}");
        assert!(!html.contains("SQLite format"), "{path}");
    }
}
