//! The two examples of the Pipekit paper, as shipped in `pipelines/`, run end to end.

use crate::common::{
    JobState, Project, RunStatus, find_test_case, parse_junit, pipeline_suite, workspace_root,
};
use quick_junit::TestCaseStatus;
use std::path::Path;

/// A project holding a copy of `pipelines/<example>` as its `pipekit.yml`, and the
/// `pipelines/` folder itself (the paper's static analyzer greps it).
fn project_from_example(example: &str) -> Project {
    let pipelines = workspace_root().join("pipelines");
    let text = std::fs::read_to_string(pipelines.join(example))
        .unwrap_or_else(|error| panic!("cannot read pipelines/{example}: {error}"));
    let project = Project::new(&text);
    for entry in std::fs::read_dir(&pipelines)
        .expect("pipelines/ is readable")
        .flatten()
    {
        if entry.path().is_file() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let contents = std::fs::read_to_string(entry.path()).expect("example is readable");
            project.write(&format!("pipelines/{name}"), &contents);
        }
    }
    project
}

/// The paths inside a `.tar.zst` archive.
fn archive_entries(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()));
    let decoder = zstd::Decoder::new(file).expect("artifact is zstd");
    let mut archive = tar::Archive::new(decoder);
    archive
        .entries()
        .expect("artifact is a tar archive")
        .map(|entry| {
            let entry = entry.expect("readable tar entry");
            let path = entry.path().expect("tar entry has a path");
            path.to_string_lossy().trim_start_matches("./").to_string()
        })
        .collect()
}

#[test]
fn paper_ci_example_passes_with_gated_testing_artifact_and_merged_junit() {
    let project = project_from_example("paper-ci.yml");

    let finished = project.run_pipeline(&[]);

    finished.assert_code(0);
    project.assert_run_folder(&["compiler", "static-analyzer", "testing-deployment"]);
    let run = project.run_json();
    assert_eq!(run.status, RunStatus::Passed);
    run.assert_states(&[
        ("compiler", JobState::Passed),
        ("static-analyzer", JobState::Passed),
        ("testing-deployment", JobState::Passed),
    ]);

    // testing-deployment waits for both ExitCode(0) conditions: it starts after both ended.
    let testing_start = run.job("testing-deployment").started_after();
    for upstream in ["compiler", "static-analyzer"] {
        let ended = run.job(upstream).started_after() + run.job(upstream).duration();
        assert!(
            testing_start + 1e-6 >= ended,
            "testing-deployment started at {testing_start}s, before `{upstream}` ended at {ended}s"
        );
    }
    assert!(
        project
            .log("testing-deployment")
            .contains("deployment tests passed")
    );

    let archive = project.run_dir().join("artifacts/compiler.tar.zst");
    assert!(archive.is_file(), "{} is missing", archive.display());
    assert_eq!(
        run.job("compiler").artifact.as_deref(),
        Some("artifacts/compiler.tar.zst")
    );
    let entries = archive_entries(&archive);
    assert!(
        entries.iter().any(|entry| entry == "build/hello"),
        "archive holds {entries:?}"
    );

    let report = parse_junit(&project.run_dir().join("junit.xml"));
    let suite = pipeline_suite(&report, "paper-ci");
    let names: Vec<&str> = suite
        .test_cases
        .iter()
        .map(|case| case.name.as_str())
        .collect();
    assert_eq!(names, ["compiler", "static-analyzer", "testing-deployment"]);
    for case in &suite.test_cases {
        assert_eq!(
            case.classname.as_ref().map(|c| c.as_str()),
            Some("paper-ci")
        );
        assert!(
            matches!(case.status, TestCaseStatus::Success { .. }),
            "{} did not pass",
            case.name.as_str()
        );
    }
    // The suite the job's own test runner wrote, merged in.
    assert_eq!(report.test_suites.len(), 2, "{report:#?}");
    let smoke = pipeline_suite(&report, "smoke");
    assert_eq!(smoke.test_cases.len(), 1);
    assert_eq!(
        find_test_case(smoke, "hello runs")
            .classname
            .as_ref()
            .map(|c| c.as_str()),
        Some("smoke")
    );
}

#[test]
fn three_tier_example_hands_the_password_over_and_stops_the_database() {
    let project = project_from_example("three-tier.yml");

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

    let web_log = project.log("web");
    assert!(
        web_log.contains("web tier logged in to the database"),
        "web log:\n{web_log}"
    );
    assert!(
        web_log.lines().any(|line| line == "users: alice bob"),
        "web log:\n{web_log}"
    );

    // The database never exits on its own: it passed because it was stopped while running,
    // after web (the only job depending on it) ended.
    let database = run.job("database");
    assert!(
        database.exit_code.is_none(),
        "database exited by itself: {database:#?}"
    );
    assert!(
        database.signals[0].fired_after_seconds.is_some(),
        "ready never fired: {database:#?}"
    );
    let database_end = run.job("database").started_after() + run.job("database").duration();
    let web_end = run.job("web").started_after() + run.job("web").duration();
    assert!(
        database_end + 1e-6 >= web_end,
        "database ended at {database_end}s, before web at {web_end}s"
    );

    // The password went through shared storage to both tiers.
    let shared = project.run_dir().join("shared");
    let read = |path: &str| {
        std::fs::read_to_string(shared.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let handed_to_database = read("database/.env");
    assert!(
        handed_to_database.starts_with("PASSWORD="),
        "{handed_to_database}"
    );
    assert_eq!(read("web/.env"), handed_to_database);
    let password = handed_to_database
        .trim_end()
        .trim_start_matches("PASSWORD=");
    assert_eq!(
        read("database/credentials").trim_end(),
        password,
        "the database saw another password"
    );
}
