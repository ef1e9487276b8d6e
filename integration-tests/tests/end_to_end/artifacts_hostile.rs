//! Artifacts that cannot be handed on: outputs reaching out of their tree are refused
//! before anything depends on them, and an archive failing after the handoff fails the run.

use crate::common::{JobState, Project, init_and_commit};
use std::path::Path;

/// A producer whose `out/` holds a symlink to a file outside the project (by absolute path)
/// and a consumer that would write through it. The secret's folder is returned to be kept.
fn project_with_a_leaking_producer() -> (Project, tempfile::TempDir) {
    let project = Project::empty();
    let outside = tempfile::tempdir().expect("make a folder outside the project");
    let secret = outside.path().join("secret");
    std::fs::write(&secret, "secret\n").expect("write the secret");
    project.write(
        "pipekit.yml",
        &format!(
            r#"
services:
  producer:
    command: mkdir -p out && echo built > out/app && ln -s '{}' out/leak
    artifacts: [out]
  consumer:
    depends_on: [producer.ExitCode(0)]
    command: echo pwned > out/leak
"#,
            secret.display()
        ),
    );
    project.write(".gitignore", ".pipekit/\n");
    (project, outside)
}

fn assert_refused_by_name(project: &Project, secret: &Path) {
    let run = project.run_json();
    run.assert_states(&[
        ("producer", JobState::Failed),
        ("consumer", JobState::Skipped),
    ]);
    run.assert_reason_contains("producer", &["out/leak", "points outside"]);
    run.assert_reason_contains("consumer", &["producer.ExitCode(0)"]);
    assert_eq!(
        std::fs::read_to_string(secret).expect("read the secret"),
        "secret\n",
        "something was written through the link"
    );
    assert!(
        !project
            .run_dir()
            .join("artifacts/producer.tar.zst")
            .exists(),
        "an archive was stored"
    );
    let consumer_log = project.run_dir().join("logs/consumer.log");
    assert!(
        std::fs::read_to_string(consumer_log)
            .unwrap_or_default()
            .is_empty(),
        "the consumer ran"
    );
}

#[test]
fn a_symlink_pointing_out_of_a_commit_checkout_fails_the_producer_and_skips_its_dependent() {
    let (project, outside) = project_with_a_leaking_producer();
    init_and_commit(project.path(), "leaky");

    let finished = project.run_pipeline(&["--commit", "HEAD"]);

    finished.assert_code(1);
    assert!(finished.stderr.contains("out/leak"), "{}", finished.stderr);
    assert_refused_by_name(&project, &outside.path().join("secret"));
}

#[test]
fn a_symlink_pointing_out_of_the_working_tree_is_refused_the_same_way() {
    let (project, outside) = project_with_a_leaking_producer();

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    assert_refused_by_name(&project, &outside.path().join("secret"));
}

#[test]
fn an_archive_failing_after_the_handoff_still_fails_the_run() {
    let project = Project::new(
        r#"
services:
  producer:
    # The archive's path taken by a folder: packing fails once the files are handed on.
    command: mkdir -p out "$PIPEKIT_SHARED/../artifacts/producer.tar.zst/taken" && echo built > out/app
    artifacts: [out]
  consumer:
    depends_on: [producer.ExitCode(0)]
    command: test "$(cat out/app)" = built && echo "consumer saw the build"
"#,
    );
    project.write(".gitignore", ".pipekit/\n");
    init_and_commit(project.path(), "first");

    let finished = project.run_pipeline(&["--commit", "HEAD"]);

    finished.assert_code(1);
    assert!(project.log("consumer").contains("consumer saw the build"));
    let run = project.run_json();
    run.assert_states(&[
        ("producer", JobState::Failed),
        ("consumer", JobState::Passed),
    ]);
    run.assert_reason_contains("producer", &["could not be packed"]);
    assert!(
        finished.stderr.contains("could not be packed"),
        "{}",
        finished.stderr
    );
}
