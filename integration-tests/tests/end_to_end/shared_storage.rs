//! Shared storage: the `.env` hand-off between jobs and the variables every job sees.

use crate::common::{JobState, Project, git};

#[test]
fn env_file_in_shared_storage_becomes_the_environment_of_its_job() {
    let project = Project::new(
        r#"
services:
  a:
    command: |
      cat > "$PIPEKIT_SHARED/b/.env" <<'ENV'
      # handed over by a
      B_VAR=hello

      QUOTED="two words"
      ENV
  b:
    depends_on: [a.ExitCode(0)]
    command: |
      echo "B_VAR=[$B_VAR]"
      echo "QUOTED=[$QUOTED]"
      echo "PIPEKIT_JOB=[$PIPEKIT_JOB]"
      echo "CI=[$CI]"
      echo "PIPEKIT=[$PIPEKIT]"
      echo "PIPEKIT_RUN_ID=[$PIPEKIT_RUN_ID]"
      echo "PIPEKIT_SHARED=[$PIPEKIT_SHARED]"
      test -d "$PIPEKIT_SHARED/a" && echo "shared folder of a exists"
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project.assert_run_folder(&["a", "b"]);
    let run_dir = project.run_dir();
    let run_id = run_dir
        .file_name()
        .and_then(|name| name.to_str())
        .expect("run id")
        .to_string();
    let log = project.log("b");
    let lines: Vec<&str> = log.lines().collect();
    let shared = std::fs::canonicalize(run_dir.join("shared")).expect("shared/");
    for expected in [
        "B_VAR=[hello]".to_string(),
        "QUOTED=[two words]".to_string(),
        "PIPEKIT_JOB=[b]".to_string(),
        "CI=[true]".to_string(),
        "PIPEKIT=[true]".to_string(),
        format!("PIPEKIT_RUN_ID=[{run_id}]"),
        "shared folder of a exists".to_string(),
    ] {
        assert!(
            lines.contains(&expected.as_str()),
            "b's log lacks `{expected}`:\n{log}"
        );
    }
    let shared_seen = lines
        .iter()
        .find_map(|line| line.strip_prefix("PIPEKIT_SHARED=[")?.strip_suffix(']'))
        .expect("b printed PIPEKIT_SHARED");
    assert_eq!(
        std::fs::canonicalize(shared_seen).ok(),
        Some(shared),
        "PIPEKIT_SHARED is {shared_seen}"
    );
}

#[test]
fn malformed_env_line_fails_the_receiving_job_with_the_line_named() {
    let project = Project::new(
        r#"
services:
  a:
    command: printf 'GOOD=1\nthis is not an assignment\n' > "$PIPEKIT_SHARED/c/.env"
  c:
    depends_on: [a.ExitCode(0)]
    command: touch c-ran
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    let run = project.run_json();
    run.assert_states(&[("a", JobState::Passed), ("c", JobState::Failed)]);
    run.assert_reason_contains("c", &[".env", "line 2", "this is not an assignment"]);
    assert!(
        !project.path().join("c-ran").exists(),
        "the job ran with a broken .env"
    );
    assert!(
        finished.stderr.contains("this is not an assignment"),
        "not shown to the user:\n{}",
        finished.stderr
    );
}

#[test]
fn jobs_in_a_git_work_tree_see_its_commit_and_branch() {
    let project = Project::new(
        r#"
services:
  a:
    command: echo "commit=[$PIPEKIT_COMMIT] branch=[$PIPEKIT_BRANCH]"
"#,
    );
    git(project.path(), &["init", "-q", "-b", "trunk"]);
    git(project.path(), &["add", "pipekit.yml"]);
    git(project.path(), &["commit", "-q", "-m", "first"]);
    git(project.path(), &["pack-refs", "--all"]);
    let head = git(project.path(), &["rev-parse", "HEAD"]);

    project.run_pipeline(&[]).assert_code(0);

    let log = project.log("a");
    assert!(
        log.contains(&format!("commit=[{head}] branch=[trunk]")),
        "log of a:\n{log}"
    );
}

#[test]
fn jobs_outside_git_get_no_commit_variables() {
    let project =
        Project::new("services:\n  a:\n    command: echo \"commit=[${PIPEKIT_COMMIT-unset}]\"\n");
    project.run_pipeline(&[]).assert_code(0);
    assert!(
        project.log("a").contains("commit=[unset]"),
        "{}",
        project.log("a")
    );
}
