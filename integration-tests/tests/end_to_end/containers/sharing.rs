//! What jobs in containers share with the host and each other: the source tree, shared
//! storage, `.env` files and the run's network.

use super::support::{RUN, ended_at, signal_fired_at};
use crate::common::{
    ContainerTest, JobState, Project, RunStatus, run_id_of, test_image, workspace_root,
};
use std::os::unix::fs::MetadataExt;

#[test]
fn three_tier_example_runs_in_containers_and_reaches_the_database_by_name() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let example = workspace_root().join("pipelines/three-tier-containers.yml");
    let text = std::fs::read_to_string(&example)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", example.display()));
    assert_eq!(
        text.matches("image: pipekit-test/busybox\n").count(),
        3,
        "every tier of the example runs the test image"
    );
    let project = test.adopt(Project::new(&text.replace(
        "image: pipekit-test/busybox\n",
        &format!("image: {}\n", test_image()),
    )));

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project.assert_run_folder(&["password-generator", "database", "web"]);
    let run = project.run_json();
    assert_eq!(run.status, RunStatus::Passed);
    run.assert_states(&[
        ("password-generator", JobState::Passed),
        ("database", JobState::Passed),
        ("web", JobState::Passed),
    ]);

    // The password went through shared storage, and the web tier got the database's answer
    // to that same password over the run's network, by the database's job name.
    let handed_to_web =
        std::fs::read_to_string(project.run_dir().join("shared/web/.env")).expect("web/.env");
    let password = handed_to_web
        .trim_end()
        .strip_prefix("PASSWORD=")
        .unwrap_or_else(|| panic!("web/.env is {handed_to_web:?}"));
    assert!(!password.is_empty());
    let handed_to_database =
        std::fs::read_to_string(project.run_dir().join("shared/database/.env"))
            .expect("database/.env");
    assert_eq!(handed_to_database, handed_to_web);
    let web_log = project.log("web");
    assert!(
        web_log
            .lines()
            .any(|line| line == format!("database said: authenticated with {password}")),
        "web log:\n{web_log}"
    );
    assert!(
        web_log.contains("web tier logged in to the database"),
        "web log:\n{web_log}"
    );
    assert!(
        project.log("database").contains("Database is ready"),
        "database log:\n{}",
        project.log("database")
    );

    // Gated on both conditions; the database stopped only after web ended.
    let web_start = run.job("web").started_after();
    let ready_at = signal_fired_at(&run, "database", 0);
    assert!(
        web_start + 1e-6 >= ready_at,
        "web started at {web_start}s, before database.ready fired at {ready_at}s"
    );
    let generated_at = ended_at(&run, "password-generator");
    assert!(
        web_start + 1e-6 >= generated_at,
        "web started at {web_start}s, before password-generator ended at {generated_at}s"
    );
    assert!(
        run.job("database").started_after() + 1e-6 >= generated_at,
        "database started before its password was there"
    );
    assert!(
        ended_at(&run, "database") + 1e-6 >= ended_at(&run, "web"),
        "database ended before web"
    );
    // Stopped by pipekit-ci (its container exits 143), not ended on its own: no exit code,
    // as for a stopped host process.
    assert_eq!(run.job("database").exit_code, None);
    assert_eq!(run.job("web").exit_code, Some(0));
}

#[test]
fn host_and_container_jobs_share_files_through_shared_storage_both_ways() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = test.marker();
    let project = test.project(&format!(
        r#"
services:
  ask:
    command: |
      echo "question {marker}" > "$PIPEKIT_SHARED/ask/question.txt"
      echo "host sees PIPEKIT_LEAK_CHECK=[$PIPEKIT_LEAK_CHECK]"
  answer:
    image: {{image}}
    depends_on: [ask.ExitCode(0)]
    command: |
      set -e
      echo "PIPEKIT_SHARED=[$PIPEKIT_SHARED] PIPEKIT_WORKSPACE=[$PIPEKIT_WORKSPACE] pwd=[$(pwd)]"
      echo "container sees PIPEKIT_LEAK_CHECK=[${{PIPEKIT_LEAK_CHECK-unset}}]"
      question=$(cat /pipekit/ask/question.txt)
      mkdir -p "$PIPEKIT_SHARED/answer/deep/folder"
      echo "reply to $question" > "$PIPEKIT_SHARED/answer/deep/folder/reply.txt"
      echo "written in /workspace" > /workspace/from-the-container.txt
  check:
    depends_on: [answer.ExitCode(0)]
    command: echo "host read [$(cat "$PIPEKIT_SHARED/answer/deep/folder/reply.txt")]"
"#
    ));

    let finished = project.run_with_env(&RUN, &[("PIPEKIT_LEAK_CHECK", &marker)]);

    finished.assert_code(0);
    project.assert_run_folder(&["ask", "answer", "check"]);
    project.run_json().assert_states(&[
        ("ask", JobState::Passed),
        ("answer", JobState::Passed),
        ("check", JobState::Passed),
    ]);
    let answer = project.log("answer");
    for expected in [
        "PIPEKIT_SHARED=[/pipekit] PIPEKIT_WORKSPACE=[/workspace] pwd=[/workspace]",
        // pipekit-ci's own environment stays on the host.
        "container sees PIPEKIT_LEAK_CHECK=[unset]",
    ] {
        assert!(
            answer.lines().any(|line| line == expected),
            "answer's log lacks `{expected}`:\n{answer}"
        );
    }
    assert!(
        project
            .log("ask")
            .contains(&format!("host sees PIPEKIT_LEAK_CHECK=[{marker}]")),
        "the control failed: the host job does not see the variable"
    );
    assert!(
        project
            .log("check")
            .contains(&format!("host read [reply to question {marker}]")),
        "check's log:\n{}",
        project.log("check")
    );
    let in_workspace = std::fs::read_to_string(project.path().join("from-the-container.txt"))
        .expect("the container wrote into the source tree");
    assert_eq!(in_workspace, "written in /workspace\n");

    // What the container wrote belongs to whoever ran pipekit-ci, who can delete it.
    let run_dir = project.run_dir();
    let reply = run_dir.join("shared/answer/deep/folder/reply.txt");
    let owner = std::fs::metadata(&reply).expect("reply.txt").uid();
    assert_eq!(
        owner,
        nix::unistd::geteuid().as_raw(),
        "{} belongs to uid {owner}",
        reply.display()
    );
    let run_id = run_id_of(&run_dir);
    test.assert_run_left_nothing(&run_id);
    std::fs::remove_dir_all(&run_dir)
        .unwrap_or_else(|error| panic!("cannot remove {}: {error}", run_dir.display()));
    assert!(!run_dir.exists());
}

#[test]
fn env_file_in_shared_storage_is_injected_into_a_container() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = test.marker();
    let project = test.project(&format!(
        r#"
services:
  writer:
    command: |
      cat > "$PIPEKIT_SHARED/greeter/.env" <<'ENV'
      # handed over by the host
      GREETING="hello {marker}"

      PLAIN=plain-value
      ENV
  greeter:
    image: {{image}}
    depends_on: [writer.ExitCode(0)]
    command: |
      echo "GREETING=[$GREETING]"
      echo "PLAIN=[$PLAIN]"
      echo "PIPEKIT_JOB=[$PIPEKIT_JOB] CI=[$CI]"
"#
    ));

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("writer", JobState::Passed), ("greeter", JobState::Passed)]);
    let log = project.log("greeter");
    for expected in [
        format!("GREETING=[hello {marker}]"),
        "PLAIN=[plain-value]".to_string(),
        "PIPEKIT_JOB=[greeter] CI=[true]".to_string(),
    ] {
        assert!(
            log.lines().any(|line| line == expected),
            "greeter's log lacks `{expected}`:\n{log}"
        );
    }
}
