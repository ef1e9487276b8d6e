//! The command line: invalid input, environment errors, validate, graph, plain output.

use crate::common::{JobState, Project, locations_in, run_binary, workspace_root};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The `*.yml`/`*.yaml` files of a folder of the workspace, sorted.
fn pipeline_files(folder: &str) -> Vec<PathBuf> {
    let dir = workspace_root().join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no pipeline files in {}", dir.display());
    files
}

fn as_str(path: &std::path::Path) -> &str {
    path.to_str().expect("workspace paths are UTF-8")
}

#[test]
fn cycle_is_invalid_input_located_in_the_file_and_nothing_runs() {
    let project = Project::new(
        r#"services:
  a:
    command: touch a-ran
    depends_on: [b.ExitCode(0)]
  b:
    command: touch b-ran
    depends_on: [a.ExitCode(0)]
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(2);
    assert!(
        finished.stderr.to_lowercase().contains("cycle"),
        "stderr:\n{}",
        finished.stderr
    );
    let locations = locations_in(&finished.stderr, "pipekit.yml");
    assert!(
        locations
            .iter()
            .any(|location| [(4, 18), (7, 18)].contains(location)),
        "no pipekit.yml:line:column pointing at a dependency of the cycle: {locations:?}\n{}",
        finished.stderr
    );
    assert!(
        !project.path().join(".pipekit").exists(),
        "an invalid pipeline created a run folder"
    );
    assert!(!project.path().join("a-ran").exists() && !project.path().join("b-ran").exists());
    assert!(!finished.stderr.contains("panicked"), "{}", finished.stderr);
}

#[test]
fn malformed_yaml_is_invalid_input_with_file_line_and_column() {
    let project = Project::new("services:\n  a:\n    command: [echo\n  b: x\n");

    let finished = project.run_pipeline(&[]);

    finished.assert_code(2);
    let locations = locations_in(&finished.stderr, "pipekit.yml");
    assert!(
        locations
            .iter()
            .any(|(line, column)| (3..=4).contains(line) && *column > 0),
        "no pipekit.yml:line:column near the broken flow sequence: {locations:?}\n{}",
        finished.stderr
    );
    assert!(!project.path().join(".pipekit").exists());
    assert!(!finished.stderr.contains("panicked"), "{}", finished.stderr);
}

#[test]
fn unknown_field_is_invalid_input_with_a_suggestion() {
    let project = Project::new("services:\n  a:\n    command: touch ran\n    timout: 3\n");

    let finished = project.run_pipeline(&[]);

    finished.assert_code(2);
    assert!(
        finished.stderr.contains("did you mean `timeout`"),
        "stderr:\n{}",
        finished.stderr
    );
    assert!(
        finished.stderr.contains("timout"),
        "stderr:\n{}",
        finished.stderr
    );
    let locations = locations_in(&finished.stderr, "pipekit.yml");
    assert!(
        locations.contains(&(4, 5)),
        "no pipekit.yml:4:5 at `timout`: {locations:?}\n{}",
        finished.stderr
    );
    assert!(!project.path().join("ran").exists());
}

#[test]
fn missing_pipeline_file_is_invalid_input() {
    let project = Project::empty();

    let named = project.run_pipeline(&["-f", "missing.yml"]);
    named.assert_code(2);
    assert!(
        named.stderr.contains("missing.yml"),
        "stderr:\n{}",
        named.stderr
    );

    let default = project.run_pipeline(&[]);
    default.assert_code(2);
    assert!(
        default.stderr.contains("pipekit.yml"),
        "stderr:\n{}",
        default.stderr
    );
    assert!(!project.path().join(".pipekit").exists());
}

#[test]
fn every_invalid_fixture_is_rejected_with_a_location_and_no_panic() {
    for file in pipeline_files("fixtures/invalid") {
        let finished = run_binary(&["validate", "-f", as_str(&file)]);
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        assert_eq!(
            finished.code,
            Some(2),
            "{name}: expected exit 2\n{}",
            finished.stderr
        );
        assert!(
            !finished.stderr.contains("panicked"),
            "{name} made pipekit-ci panic:\n{}",
            finished.stderr
        );
        assert!(
            !locations_in(&finished.stderr, name).is_empty(),
            "{name}: no {name}:line:column in\n{}",
            finished.stderr
        );
    }
}

#[test]
fn image_job_needs_the_local_executor_flag_and_then_runs_on_the_host() {
    let project = Project::new(
        r#"
services:
  containerised:
    image: busybox
    command: echo "on the host" > "$PIPEKIT_WORKSPACE/ran-here"
"#,
    );
    // An engine that is certainly not there, whether or not this machine runs Docker.
    let no_engine = [("DOCKER_HOST", "unix:///nonexistent-pipekit-engine.sock")];

    let refused = project.run_with_env(&["run", "--no-progress"], &no_engine);
    refused.assert_code(3);
    assert!(
        refused.stderr.contains("--executor local"),
        "stderr:\n{}",
        refused.stderr
    );
    assert!(
        !project.path().join("ran-here").exists(),
        "the job ran although the run was refused"
    );
    assert!(
        project.run_dirs().is_empty(),
        "a refused run left a run folder"
    );

    let local = project.run_with_env(&["run", "--no-progress", "--executor", "local"], &no_engine);
    local.assert_code(0);
    project
        .run_json()
        .assert_states(&[("containerised", JobState::Passed)]);
    let written = std::fs::read_to_string(project.path().join("ran-here"))
        .expect("the job wrote on the host");
    assert_eq!(written, "on the host\n");
}

#[test]
fn validate_accepts_every_example_and_valid_fixture() {
    // A control, so that a `validate` accepting anything cannot pass this test.
    let broken =
        Project::new("services:\n  a:\n    command: echo\n    depends_on: [nobody.Started]\n");
    broken.run(&["validate"]).assert_code(2);

    let mut files = pipeline_files("pipelines");
    files.extend(pipeline_files("fixtures/valid"));
    for file in files {
        let finished = run_binary(&["validate", "-f", as_str(&file)]);
        assert_eq!(
            finished.code,
            Some(0),
            "{} does not validate:\n{}",
            file.display(),
            finished.stderr
        );
    }
}

/// The edges (from, to) of a `graph --format dot` output.
fn dot_edges(dot: &str) -> BTreeSet<(String, String)> {
    dot.lines()
        .filter_map(|line| {
            let (from, rest) = line.split_once("->")?;
            let to = rest.trim().split(['[', ';']).next()?;
            Some((
                from.trim().trim_matches('"').to_string(),
                to.trim().trim_matches('"').to_string(),
            ))
        })
        .collect()
}

/// The edges (from, to) of a `graph --format mermaid` output, node ids replaced by labels.
fn mermaid_edges(mermaid: &str) -> BTreeSet<(String, String)> {
    let mut labels = BTreeMap::new();
    for line in mermaid.lines().map(str::trim) {
        if let Some((id, rest)) = line.split_once("[\"")
            && !line.contains("-->")
        {
            labels.insert(id.to_string(), rest.trim_end_matches("\"]").to_string());
        }
    }
    let label = |id: &str| {
        labels
            .get(id.trim())
            .cloned()
            .unwrap_or_else(|| id.trim().to_string())
    };
    mermaid
        .lines()
        .filter_map(|line| {
            let (from, rest) = line.split_once("-->")?;
            // `-->|"label"| to` or `--> to`
            let to = rest.rsplit('|').next()?;
            Some((label(from), label(to)))
        })
        .collect()
}

#[test]
fn graph_of_the_paper_example_has_its_edges_in_dot_and_mermaid() {
    let file = workspace_root().join("pipelines/paper-ci.yml");
    let expected: BTreeSet<(String, String)> = [
        ("compiler", "testing-deployment"),
        ("static-analyzer", "testing-deployment"),
    ]
    .into_iter()
    .map(|(from, to)| (from.to_string(), to.to_string()))
    .collect();

    let dot = run_binary(&["graph", "-f", as_str(&file), "--format", "dot"]);
    dot.assert_code(0);
    assert!(
        dot.stdout.trim_start().starts_with("digraph"),
        "{}",
        dot.stdout
    );
    assert_eq!(dot_edges(&dot.stdout), expected, "dot:\n{}", dot.stdout);

    let mermaid = run_binary(&["graph", "-f", as_str(&file), "--format", "mermaid"]);
    mermaid.assert_code(0);
    assert!(
        mermaid.stdout.trim_start().starts_with("graph")
            || mermaid.stdout.trim_start().starts_with("flowchart")
    );
    assert_eq!(
        mermaid_edges(&mermaid.stdout),
        expected,
        "mermaid:\n{}",
        mermaid.stdout
    );
}

#[test]
fn plain_output_prefixes_job_lines_and_ends_with_a_summary_table() {
    let project = Project::new(
        r#"
services:
  alpha:
    command: echo "hello from alpha"; echo "alpha on stderr" >&2
  beta-job:
    command: echo "beta says hi"; exit 4
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    let output = finished.output();
    assert!(
        !output.contains('\u{1b}'),
        "escape sequences in non-terminal output:\n{output}"
    );
    let lines: Vec<&str> = output.lines().collect();
    let prefixed = |job: &str, text: &str| {
        lines.iter().rposition(|line| {
            line.split_once(" | ")
                .is_some_and(|(prefix, rest)| prefix.trim_end() == job && rest == text)
        })
    };
    let mut last_job_line = 0;
    for (job, text) in [
        ("alpha", "hello from alpha"),
        ("alpha", "alpha on stderr"),
        ("beta-job", "beta says hi"),
    ] {
        let index =
            prefixed(job, text).unwrap_or_else(|| panic!("no `{job} | {text}` line in:\n{output}"));
        last_job_line = last_job_line.max(index);
    }
    let summary_row = |job: &str, result: &str| {
        lines.iter().rposition(|line| {
            let mut words = line.split_whitespace();
            words.next() == Some(job)
                && words
                    .next()
                    .is_some_and(|word| word.eq_ignore_ascii_case(result))
        })
    };
    for (job, result) in [("alpha", "passed"), ("beta-job", "failed")] {
        let row = summary_row(job, result)
            .unwrap_or_else(|| panic!("no summary row `{job} {result}` in:\n{output}"));
        assert!(
            row > last_job_line,
            "the summary row of {job} comes before the job output:\n{output}"
        );
    }
}

/// `--stop-grace 1e20` used to overflow a `Duration` and panic (exit 101).
#[test]
fn stop_grace_out_of_range_is_invalid_input_not_a_panic() {
    let project = Project::new("services:\n  a:\n    command: \"true\"\n");
    for value in ["1e20", "-1", "NaN", "inf"] {
        let finished = project.run_pipeline(&[&format!("--stop-grace={value}")]);
        finished.assert_code(2);
        assert!(
            finished.stderr.contains("--stop-grace"),
            "{value}: {}",
            finished.stderr
        );
    }
    assert!(!project.path().join(".pipekit").exists(), "nothing ran");
}

/// The whole of what a user reads in a CI log for a small failing run: progress lines, job
/// output, the summary table and the diagnosis, in this order. Paths, the run id and times
/// are normalised; the jobs run one after another, so nothing else varies.
#[test]
fn plain_output_of_a_small_failing_run_reads_as_before() {
    let project = Project::new(
        r#"
services:
  build:
    command: echo compiling; echo built
  test:
    depends_on: [build.ExitCode(0)]
    command: echo "3 tests, 1 failed"; exit 3
  deploy:
    depends_on: [test.ExitCode(0)]
    command: echo deployed
"#,
    );

    let finished = project.run_pipeline(&[]);

    finished.assert_code(1);
    let run_dir = project.run_dir();
    let mut output = finished.output();
    for dir in [
        std::fs::canonicalize(&run_dir).unwrap_or_default(),
        run_dir.clone(),
    ] {
        if !dir.as_os_str().is_empty() {
            output = output.replace(&dir.display().to_string(), "[run folder]");
        }
    }
    output = output.replace(&crate::common::run_id_of(&run_dir), "[run id]");
    insta::assert_snapshot!(without_times(&output));
}

/// Each right-aligned `1.23s` of the summary table becomes `[time]`, aligned in the same
/// span (its padding and itself), so the table keeps its shape whatever the jobs took.
fn without_times(text: &str) -> String {
    let is_time = |word: &str| {
        word.strip_suffix('s')
            .and_then(|number| number.split_once('.'))
            .is_some_and(|(whole, fraction)| {
                !whole.is_empty()
                    && whole.chars().all(|c| c.is_ascii_digit())
                    && fraction.len() == 2
                    && fraction.chars().all(|c| c.is_ascii_digit())
            })
    };
    let mut normalised = String::new();
    for line in text.split_inclusive('\n') {
        let mut rest = line;
        while let Some(start) = rest.find(|c: char| !c.is_ascii_whitespace()) {
            let end = rest[start..]
                .find(|c: char| c.is_ascii_whitespace())
                .map_or(rest.len(), |offset| start + offset);
            if is_time(&rest[start..end]) {
                normalised.push_str(&format!("{:>width$}", "[time]", width = end));
            } else {
                normalised.push_str(&rest[..end]);
            }
            rest = &rest[end..];
        }
        normalised.push_str(rest);
    }
    normalised
}
