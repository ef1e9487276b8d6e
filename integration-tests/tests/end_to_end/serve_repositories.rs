//! A repository that cannot be read is shown (API and page) and tried again at each poll,
//! while the server goes on serving the others.

use crate::common::{Server, commit_all, eventually, served_repository};
use std::time::Duration;

#[test]
fn a_repository_that_cannot_be_read_is_shown_and_retried_while_the_others_are_served() {
    let (app, _) = served_repository("services:\n  a:\n    command: echo app\n");
    let (lib, _) = served_repository("services:\n  b:\n    command: echo lib\n");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let data = tempfile::tempdir().expect("tempdir");
    let config = elsewhere.path().join("serve.yml");
    std::fs::write(
        &config,
        format!(
            "repositories:\n  app:\n    url: {}\n    poll: 0.2\n  lib:\n    url: {}\n    poll: 0.2\n",
            app.path().display(),
            lib.path().display()
        ),
    )
    .expect("write the config");
    let config_arg = config.to_str().expect("utf-8").to_owned();
    let server = Server::start_with(elsewhere.path(), data.path(), &["--config", &config_arg]);
    let problem_of = |name: &str| {
        let (status, body) = server.call("GET", "/api/v1/repositories", None);
        assert_eq!(status, 200, "{body}");
        body["repositories"]
            .as_array()
            .and_then(|all| {
                all.iter()
                    .find(|repository| repository["name"] == name)
                    .cloned()
            })
            .map(|repository| repository["problem"].clone())
            .unwrap_or_default()
    };
    assert!(eventually(Duration::from_secs(10), || problem_of("lib").is_null()));

    // `lib` goes away (a disk unmounted, a folder moved); its polls fail.
    let moved = lib.path().with_extension("moved");
    std::fs::rename(lib.path(), &moved).expect("move the repository away");
    assert!(
        eventually(Duration::from_secs(10), || problem_of("lib")["text"]
            .as_str()
            .is_some_and(|text| text.contains("cannot read the branches"))),
        "the failed read is shown: {}",
        problem_of("lib")
    );
    let (status, page) = server.call("GET", "/repositories", None);
    assert_eq!(status, 200);
    assert!(page.to_string().contains("Cannot be read since"), "{page}");

    // `app` is still served: a new commit is polled and run.
    std::fs::write(
        app.path().join("pipekit.yml"),
        "services:\n  a:\n    command: echo again\n",
    )
    .expect("change the pipeline");
    commit_all(app.path(), "Again");
    assert!(
        eventually(Duration::from_secs(20), || {
            let (_, runs) = server.call("GET", "/api/v1/runs?repository=app&status=passed", None);
            runs["runs"].as_array().is_some_and(|runs| !runs.is_empty())
        }),
        "the other repository's push was run"
    );
    assert!(problem_of("app").is_null());

    // Back again: the next poll reads it and the problem is gone.
    std::fs::rename(&moved, lib.path()).expect("move the repository back");
    assert!(
        eventually(Duration::from_secs(10), || problem_of("lib").is_null()),
        "the problem clears once a read works: {}",
        problem_of("lib")
    );
}
