//! Images: pulled, missing, built from a Dockerfile, and a build abandoned by `--fail-fast`.

use crate::common::{
    ContainerTest, JobState, Project, RunStatus, docker, test_image, unique_marker,
};
use std::time::{Duration, Instant};

#[test]
fn missing_image_fails_its_job_naming_the_image_and_skips_the_dependent() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    // From a registry that refuses at once (nothing listens on port 1), so the pull fails
    // fast and the same way whether or not this machine reaches Docker Hub.
    let image = format!(
        "localhost:1/pipekit-test/missing-{}:none",
        unique_marker().replace('.', "-")
    );
    let project = test.adopt(Project::new(&format!(
        r#"
services:
  app:
    image: {image}
    command: echo "app ran"
  after:
    depends_on: [app.ExitCode(0)]
    command: touch after-ran
"#
    )));

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    assert!(
        finished.stderr.contains(&image),
        "the image is not named to the user:\n{}",
        finished.stderr
    );
    let run = project.run_json();
    assert_eq!(run.status, RunStatus::Failed);
    run.assert_states(&[("app", JobState::Failed), ("after", JobState::Skipped)]);
    run.assert_reason_contains("app", &[&image]);
    run.assert_reason_contains("after", &["app.ExitCode(0)"]);
    assert!(!project.path().join("after-ran").exists());
}

#[test]
fn built_image_runs_its_own_command_with_the_build_arg() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = unique_marker().replace('.', "-");
    let tag = format!("pipekit-test/built-{marker}:latest");
    let project = test.adopt(Project::new(&format!(
        r#"
services:
  app:
    build:
      context: app
      args:
        GREETING: hello-{marker}
    image: {tag}
"#
    )));
    project.write(
        "app/Dockerfile",
        &format!(
            r#"FROM {image}
ARG GREETING=unset
RUN echo "greeting=$GREETING" > /greeting
CMD ["sh", "-c", "cat /greeting; echo CMD of the built image ran"]
"#,
            image = test_image()
        ),
    );
    test.remove_image_at_end(&tag);

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project
        .run_json()
        .assert_states(&[("app", JobState::Passed)]);
    let log = project.log("app");
    for expected in [
        format!("greeting=hello-{marker}"),
        "CMD of the built image ran".to_string(),
    ] {
        assert!(
            log.lines().any(|line| line == expected),
            "app's log lacks `{expected}`:\n{log}"
        );
    }
    test.assert_run_left_nothing(&project.run_id());
    // Built under the name `image:` gives, and nothing else of the build is left to remove.
    docker(&["rmi", &tag]);
    let gone = std::process::Command::new("docker")
        .args(["image", "inspect", &tag])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("docker runs");
    assert!(!gone.success(), "{tag} is still there after docker rmi");
}

/// `--fail-fast` stops a build in flight: the built job's command never runs, and the run
/// does not wait for the build to finish.
#[test]
fn fail_fast_abandons_a_build_in_flight_and_its_command_never_runs() {
    let Some(test) = ContainerTest::shared() else {
        return;
    };
    let marker = unique_marker().replace('.', "-");
    let tag = format!("pipekit-test/slow-{marker}:latest");
    let project = test.adopt(Project::new(&format!(
        r#"
services:
  fails:
    command: sleep 1; exit 3
  slow-build:
    build: {{context: app}}
    image: {tag}
    command: echo RAN-AFTER-FAIL-FAST
"#
    )));
    project.write(
        "app/Dockerfile",
        &format!(
            "FROM {image}\nRUN sleep 20 # {marker}\n",
            image = test_image()
        ),
    );
    test.remove_image_at_end(&tag);

    let began = Instant::now();
    let finished = project.run_pipeline(&["--fail-fast"]);
    let took = began.elapsed();

    finished.assert_code(1);
    assert!(
        took < Duration::from_secs(12),
        "the run waited for the build: {took:?}"
    );
    let run = project.run_json();
    run.assert_states(&[
        ("fails", JobState::Failed),
        ("slow-build", JobState::Cancelled),
    ]);
    assert!(
        !finished.output().contains("RAN-AFTER-FAIL-FAST"),
        "the abandoned job ran:\n{}",
        finished.output()
    );
}
