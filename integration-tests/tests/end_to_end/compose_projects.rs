//! Compose projects of several files: `-f a -f b`, `include`, `extends`, `--profile`.

use crate::common::{Project, locations_in};

/// A project of four files: the main one includes a database project from a sub-folder,
/// extends a base file, and has a job of the `extra` profile; an override file changes
/// one job's command.
fn four_files() -> Project {
    let project = Project::empty();
    project.write(
        "compose.yml",
        "include:\n  - db/compose.yml\nservices:\n  web:\n    extends: {service: base, file: base.yml}\n    command: touch web-ran\n    depends_on:\n      db: {condition: service_completed_successfully}\n  report:\n    command: touch report-ran\n    profiles: [extra]\n",
    );
    project.write(
        "base.yml",
        "services:\n  base:\n    command: touch base-ran\n    timeout: 30\n",
    );
    project.write(
        "db/compose.yml",
        "services:\n  db:\n    command: touch db-ran\n",
    );
    project.write(
        "override.yml",
        "services:\n  web:\n    command: touch web-overridden\n",
    );
    project
}

#[test]
fn a_project_of_several_files_runs_as_one_pipeline() {
    let project = four_files();
    let finished = project.run(&[
        "run",
        "--no-progress",
        "-f",
        "compose.yml",
        "-f",
        "override.yml",
    ]);
    finished.assert_code(0);
    for (file, expected) in [
        ("db-ran", true),
        ("web-overridden", true),
        ("web-ran", false),
        ("base-ran", false),
        ("report-ran", false),
    ] {
        assert_eq!(
            project.path().join(file).exists(),
            expected,
            "{file}\n{}",
            finished.output()
        );
    }
    let finished = project.run(&[
        "run",
        "--no-progress",
        "-f",
        "compose.yml",
        "--profile",
        "extra",
    ]);
    finished.assert_code(0);
    assert!(
        project.path().join("web-ran").exists(),
        "{}",
        finished.output()
    );
    assert!(
        project.path().join("report-ran").exists(),
        "{}",
        finished.output()
    );
}

#[test]
fn a_mistake_in_an_included_file_is_shown_at_its_own_line() {
    let project = four_files();
    project.write(
        "db/compose.yml",
        "services:\n  db:\n    command: touch db-ran\n    timout: 5\n",
    );
    let finished = project.run(&["validate", "-f", "compose.yml"]);
    finished.assert_code(2);
    assert_eq!(
        locations_in(&finished.stderr, "db/compose.yml"),
        [(4, 5)],
        "{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("did you mean `timeout`?"),
        "{}",
        finished.stderr
    );
}
