//! Secrets (spec 3b): jobs get them, and nothing pipekit-ci writes or prints shows them —
//! console, logs, JUnit (also a job's own JUnit file), `run.json` — whole, split across two
//! writes of a job, or line by line for a multi-line value.

use crate::common::{
    JobState, LeftoverSweeper, Project, engine_or_skip, init_and_commit, test_image,
};
use std::path::{Path, PathBuf};

const TOKEN: &str = "tok-1234-abcd-5678";
const TOKEN_VARIABLE: &str = "PIPEKIT_E2E_SECRET_TOKEN";
const KEY_LINES: [&str; 2] = ["first-line-of-the-key", "second-line-of-the-key"];

const DECLARATIONS: &str = r#"
secrets:
  api_token:
    environment: PIPEKIT_E2E_SECRET_TOKEN
  deploy_key:
    file: ./private/deploy_key.txt
"#;

/// A project with the two secrets declared and the key file in place.
fn project_with_secrets(services: &str) -> Project {
    let project = Project::new(&format!("{DECLARATIONS}services:\n{services}"));
    project.write(
        "private/deploy_key.txt",
        &format!("{}\n{}\n", KEY_LINES[0], KEY_LINES[1]),
    );
    project
}

/// Every file below `dir`, however deep.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)
            .expect("read a folder of the run")
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

/// Fails the test if `text` (named `what`) holds any secret value, or a part of the token
/// a split write could leave whole.
#[track_caller]
fn assert_no_secret(what: &str, text: &str) {
    for secret in [TOKEN, KEY_LINES[0], KEY_LINES[1], "tok-1234", "abcd-5678"] {
        assert!(!text.contains(secret), "{what} shows `{secret}`:\n{text}");
    }
}

#[test]
fn host_jobs_get_their_secrets_and_nothing_pipekit_writes_shows_them() {
    let project = project_with_secrets(
        r#"
  whole:
    secrets: [api_token, deploy_key]
    command: |
      set -e
      [ "$api_token" = "$PIPEKIT_E2E_SECRET_TOKEN" ]
      [ "$deploy_key" = "$(cat private/deploy_key.txt)" ]
      printf '%s' "$api_token" | wc -c > "$PIPEKIT_SHARED/whole/token-length"
      echo "token is $api_token."
      echo "key is $deploy_key"
  split:
    secrets:
      - source: api_token
    command: |
      printf 'split: %s' "$(printf '%s' "$api_token" | cut -c1-8)"
      sleep 0.2
      printf '%s done\n' "$(printf '%s' "$api_token" | cut -c9-)"
      printf '%s' "$(printf '%s' "$api_token" | cut -c1-5)" >&2
      sleep 0.2
      printf '%s\n' "$(printf '%s' "$api_token" | cut -c6-)" >&2
  failing:
    secrets: [api_token]
    junit: [report.xml]
    command: |
      cat > report.xml <<EOF
      <testsuite name="deploy"><testcase name="login"><failure message="rejected $api_token">token $api_token was refused</failure><system-out>sent $api_token</system-out></testcase></testsuite>
      EOF
      echo "login with $api_token failed" >&2
      exit 3
  inherits:
    command: |
      echo "no secret of mine, but the variable is inherited: $PIPEKIT_E2E_SECRET_TOKEN"
"#,
    );

    let finished = project.run_with_env(
        &["run", "--no-progress", "--junit", "reports/junit.xml"],
        &[(TOKEN_VARIABLE, TOKEN)],
    );

    finished.assert_code(1);
    let run = project.run_json();
    run.assert_states(&[
        ("whole", JobState::Passed),
        ("split", JobState::Passed),
        ("failing", JobState::Failed),
        ("inherits", JobState::Passed),
    ]);
    let run_dir = project.run_dir();
    let length = std::fs::read_to_string(run_dir.join("shared/whole/token-length"))
        .expect("the job wrote the length of its token");
    assert_eq!(length.trim(), TOKEN.len().to_string());

    assert_no_secret("stdout", &finished.stdout);
    assert_no_secret("stderr", &finished.stderr);
    let shared = run_dir.join("shared");
    for file in files_below(&run_dir) {
        if file.starts_with(&shared) || file.extension().is_some_and(|ext| ext == "zst") {
            continue;
        }
        let text =
            String::from_utf8_lossy(&std::fs::read(&file).expect("read a run file")).into_owned();
        assert_no_secret(&file.display().to_string(), &text);
    }
    let extra_junit =
        std::fs::read_to_string(project.path().join("reports/junit.xml")).expect("--junit report");
    assert_no_secret("--junit report", &extra_junit);

    assert!(project.log("whole").contains("token is ***."));
    assert!(project.log("whole").contains("key is ***\n***"));
    assert!(project.log("split").contains("split: *** done"));
    assert!(project.log("split").lines().any(|line| line == "***"));
    assert!(project.log("inherits").contains("inherited: ***"));
    assert!(
        finished.stderr.contains("token is ***."),
        "{}",
        finished.stderr
    );
    let junit = std::fs::read_to_string(run_dir.join("junit.xml")).expect("junit.xml");
    for masked in [
        "login with *** failed",
        "rejected ***",
        "token *** was refused",
        "sent ***",
    ] {
        assert!(
            junit.contains(masked),
            "junit.xml lacks `{masked}`:\n{junit}"
        );
    }
}

#[test]
fn a_secret_too_short_to_mask_is_refused_before_anything_runs() {
    let project =
        project_with_secrets("  job:\n    secrets: [api_token]\n    command: touch ran\n");

    let finished = project.run_with_env(&["run", "--no-progress"], &[(TOKEN_VARIABLE, "short7x")]);

    finished.assert_code(3);
    assert!(
        finished.stderr.contains(
            "secret `api_token` is 7 characters long; values shorter than 8 characters are refused"
        ),
        "{}",
        finished.stderr
    );
    assert!(!finished.output().contains("short7x"));
    assert!(!project.path().join("ran").exists(), "the job ran");
    assert!(project.run_dirs().is_empty(), "a run folder was written");
}

#[test]
fn a_missing_secret_is_an_environment_error_before_anything_runs() {
    let project =
        project_with_secrets("  job:\n    secrets: [api_token]\n    command: touch ran\n");

    let finished = project.run_with_env(&["run", "--no-progress"], &[]);

    finished.assert_code(3);
    assert!(
        finished.stderr.contains(
            "secret `api_token` comes from the environment variable `PIPEKIT_E2E_SECRET_TOKEN`, \
             which is not set"
        ),
        "{}",
        finished.stderr
    );
    assert!(!project.path().join("ran").exists(), "the job ran");
    assert!(project.run_dirs().is_empty(), "a run folder was written");

    let only_key =
        project_with_secrets("  job:\n    secrets: [deploy_key]\n    command: touch ran\n");
    std::fs::remove_file(only_key.path().join("private/deploy_key.txt")).expect("remove the key");
    let finished = only_key.run_with_env(&["run", "--no-progress"], &[(TOKEN_VARIABLE, TOKEN)]);
    finished.assert_code(3);
    assert!(
        finished
            .stderr
            .contains("cannot read the file of secret `deploy_key`"),
        "{}",
        finished.stderr
    );
    assert!(only_key.run_dirs().is_empty(), "a run folder was written");
}

#[test]
fn a_commit_run_reads_secret_files_from_the_work_tree() {
    let project = project_with_secrets(
        r#"
  check:
    secrets: [deploy_key]
    command: |
      [ ! -e private/deploy_key.txt ] && [ "$(printf '%s' "$deploy_key" | wc -l)" = 1 ]
"#,
    );
    // Secret files are not committed: the checkout lacks it, the work tree has it.
    project.write(".gitignore", "private/\n");
    init_and_commit(project.path(), "no secrets in here");

    let finished = project.run_with_env(
        &["run", "--no-progress", "--commit", "HEAD"],
        &[(TOKEN_VARIABLE, TOKEN)],
    );

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("check", JobState::Passed)]);
}

#[test]
fn a_container_job_reads_its_secrets_from_run_secrets() {
    let Some(_engine) = engine_or_skip() else {
        return;
    };
    let project = project_with_secrets(&format!(
        r#"
  boxed:
    image: {image}
    secrets: [api_token, deploy_key]
    command: |
      set -e
      [ "$(cat /run/secrets/api_token)" = "$api_token" ]
      [ "$(cat /run/secrets/deploy_key)" = "$deploy_key" ]
      wc -c < /run/secrets/api_token > /pipekit/boxed/token-length
      ls -l /run/secrets/api_token
      echo "from the file: $(cat /run/secrets/api_token)"
      cat /run/secrets/deploy_key
"#,
        image = test_image()
    ));
    let _sweeper = LeftoverSweeper::for_project(&project);

    let finished = project.run_with_env(&["run", "--no-progress"], &[(TOKEN_VARIABLE, TOKEN)]);

    finished.assert_code(0);
    let run_dir = project.run_dir();
    let length = std::fs::read_to_string(run_dir.join("shared/boxed/token-length"))
        .expect("the job wrote the length of its secret file");
    assert_eq!(length.trim(), TOKEN.len().to_string());
    let log = project.log("boxed");
    assert!(log.contains("-r--r--r--"), "{log}");
    assert!(log.contains("from the file: ***"), "{log}");
    assert!(log.contains("***\n***\n"), "{log}");
    assert_no_secret("the log", &log);
    assert_no_secret("stderr", &finished.stderr);
    assert_no_secret(
        "run.json",
        &std::fs::read_to_string(run_dir.join("run.json")).expect("run.json"),
    );
}
