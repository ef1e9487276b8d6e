//! Every file under `fixtures/invalid` fails with located errors (rendered output snapshotted);
//! every file under `fixtures/valid` parses.

use std::path::{Path, PathBuf};

use std::time::Duration;

use pipekit_schema::{
    Awaited, Command, Condition, FilterPattern, JobId, Pipeline, PushTrigger, Severity, SignalKind,
    Source, Stream, Triggers,
};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", directory.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yml"))
        .collect();
    files.sort();
    files
}

fn source(path: &Path) -> Source {
    let name = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(path).expect("fixture is UTF-8");
    Source { name, text }
}

#[test]
fn invalid_fixtures_fail_with_located_errors() {
    let files = fixtures("invalid");
    assert!(
        files.len() >= 17,
        "expected the invalid fixtures, found {files:?}"
    );
    for path in files {
        let source = source(&path);
        let diagnostics = match pipekit_schema::parse(&source) {
            Ok(parsed) => panic!("{} parsed: {:?}", source.name, parsed.pipeline),
            Err(diagnostics) => diagnostics,
        };
        assert!(
            diagnostics
                .items
                .iter()
                .any(|item| item.severity == Severity::Error && item.location.is_some()),
            "{}: no located error in {:?}",
            source.name,
            diagnostics.items
        );
        let rendered = diagnostics.render(false);
        let stem = source.name.trim_end_matches(".yml");
        insta::with_settings!({ snapshot_suffix => stem, prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!("invalid", rendered);
        });
    }
}

#[test]
fn valid_fixtures_parse() {
    for path in fixtures("valid") {
        let source = source(&path);
        if let Err(diagnostics) = pipekit_schema::parse(&source) {
            panic!("{}:\n{diagnostics}", source.name);
        }
    }
}

fn parse_valid(name: &str) -> (Pipeline, Vec<pipekit_schema::Diagnostic>) {
    let parsed = parse_valid_file(name);
    (parsed.pipeline, parsed.notes)
}

fn parse_valid_file(name: &str) -> pipekit_schema::Parsed {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/valid")
        .join(name);
    match pipekit_schema::parse(&source(&path)) {
        Ok(parsed) => parsed,
        Err(diagnostics) => panic!("{name}:\n{diagnostics}"),
    }
}

fn job<'a>(pipeline: &'a Pipeline, name: &str) -> (JobId, &'a pipekit_schema::Job) {
    let id = pipeline
        .find_job(name)
        .unwrap_or_else(|| panic!("no job {name}"));
    (id, pipeline.job(id))
}

fn references(pipeline: &Pipeline, name: &str) -> Vec<String> {
    let (_, job) = job(pipeline, name);
    job.depends_on
        .iter()
        .map(|condition| pipeline.describe(*condition))
        .collect()
}

#[test]
fn the_papers_compiler_example_runs_two_jobs_then_a_third() {
    let (pipeline, notes) = parse_valid("paper-compiler.yml");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(pipeline.name, "paper-compiler");
    assert_eq!(pipeline.jobs.len(), 3);
    assert!(references(&pipeline, "compiler").is_empty());
    assert!(references(&pipeline, "static-analyzer").is_empty());
    assert_eq!(
        references(&pipeline, "testing-deployment"),
        ["compiler.ExitCode(0)", "static-analyzer.ExitCode(0)"]
    );
    let (_, compiler) = job(&pipeline, "compiler");
    assert_eq!(compiler.command, Some(Command::Shell("make".to_owned())));
    assert!(!compiler.needs_container());
}

#[test]
fn the_papers_three_tier_example_waits_for_the_database() {
    let (pipeline, _) = parse_valid("three-tier.yml");
    assert_eq!(pipeline.name, "three-tier");
    assert_eq!(
        pipeline.env.get("RUST_LOG").map(String::as_str),
        Some("info")
    );
    let (_, database) = job(&pipeline, "database");
    assert!(database.detach);
    assert_eq!(database.image.as_deref(), Some("mysql"));
    assert_eq!(database.signals.len(), 1);
    let ready = &database.signals[0];
    assert_eq!(ready.name, "ready");
    assert_eq!(ready.timeout, Some(Duration::from_secs(30)));
    match &ready.kind {
        SignalKind::Grep { stream, regex } => {
            assert_eq!(*stream, Stream::Stdout);
            assert!(regex.is_match("2024 Database is ready."));
        }
        other => panic!("expected Grep, got {other:?}"),
    }
    assert_eq!(
        references(&pipeline, "database"),
        ["password-generator.ExitCode(0)"]
    );
    assert_eq!(
        references(&pipeline, "web"),
        ["password-generator.ExitCode(0)", "database.ready"]
    );
}

#[test]
fn compose_forms_merge_keys_and_healthchecks_load() {
    let (pipeline, notes) = parse_valid("compose.yml");
    let notes: Vec<&str> = notes.iter().map(|note| note.message.as_str()).collect();
    assert_eq!(
        notes,
        ["`restart` is ignored: pipekit-ci does not use it yet"]
    );

    let (database_id, database) = job(&pipeline, "database");
    assert_eq!(
        database.image.as_deref(),
        Some("postgres:16"),
        "explicit keys win over merged ones"
    );
    assert_eq!(database.ports, ["5432", "8080:80"]);
    assert_eq!(
        database.environment.get("RATIO"),
        Some(&Some("1.50".to_owned()))
    );
    assert_eq!(database.environment.get("FROM_HOST"), Some(&None));
    assert_eq!(
        database.environment.get("LOG_LEVEL"),
        None,
        "a merged mapping is replaced, not merged"
    );
    assert_eq!(database.labels.get("team").map(String::as_str), Some("ci"));
    let healthcheck = database.healthcheck.as_ref().expect("healthcheck");
    assert_eq!(
        healthcheck.test,
        Command::Shell("pg_isready -U postgres".to_owned())
    );
    assert_eq!(healthcheck.interval, Duration::from_millis(500));
    assert_eq!(healthcheck.timeout, Duration::from_secs(90));
    assert_eq!(healthcheck.retries, 5);

    let (migrate_id, migrate) = job(&pipeline, "migrate");
    assert_eq!(migrate.image.as_deref(), Some("alpine:3.20"));
    assert_eq!(
        migrate.environment.get("RETRIES"),
        Some(&Some("3".to_owned()))
    );
    assert_eq!(
        migrate.command,
        Some(Command::Exec(vec![
            "./migrate".to_owned(),
            "--all".to_owned()
        ]))
    );
    assert_eq!(
        migrate.depends_on,
        [Condition {
            job: database_id,
            awaited: Awaited::Healthy
        }]
    );

    let (_, seed) = job(&pipeline, "seed");
    assert_eq!(
        seed.entrypoint,
        Some(Command::Shell("/bin/sh -c".to_owned()))
    );
    assert_eq!(seed.environment.get("MODE"), Some(&Some("seed".to_owned())));
    assert_eq!(seed.environment.get("HOME"), Some(&None));
    assert_eq!(
        seed.depends_on,
        [
            Condition {
                job: migrate_id,
                awaited: Awaited::ExitCode(0)
            },
            Condition {
                job: database_id,
                awaited: Awaited::Started
            },
        ]
    );

    let (_, build) = job(&pipeline, "build");
    let image_build = build.build.as_ref().expect("build");
    assert_eq!(image_build.context, "./app");
    assert_eq!(image_build.dockerfile.as_deref(), Some("Dockerfile.ci"));
    assert_eq!(
        image_build.args.get("VERSION").map(String::as_str),
        Some("1.2")
    );
    assert_eq!(build.timeout, Some(Duration::from_secs(600)));
    assert!(build.needs_container());

    let (_, tests) = job(&pipeline, "tests");
    assert_eq!(tests.working_dir.as_deref(), Some("./app"));
    assert_eq!(tests.artifacts, ["target/report"]);
    assert_eq!(tests.junit, ["target/junit.xml"]);
    assert_eq!(tests.env_files, [".env.test"]);
    assert_eq!(tests.timeout, Some(Duration::from_secs_f64(90.5)));
    let signals: Vec<(&str, Option<Duration>)> = tests
        .signals
        .iter()
        .map(|signal| (signal.name.as_str(), signal.timeout))
        .collect();
    assert_eq!(
        signals,
        [
            ("compiled", Some(Duration::from_secs(120))),
            ("report", None),
            ("serving", Some(Duration::from_millis(2500))),
        ]
    );
    assert!(
        matches!(&tests.signals[0].kind, SignalKind::Grep { stream: Stream::Stderr, regex } if regex.is_match("Finished dev"))
    );
    assert!(
        matches!(&tests.signals[1].kind, SignalKind::Exists { path } if path == "tests/report.xml")
    );
    assert!(matches!(
        tests.signals[2].kind,
        SignalKind::Port { port: 8080 }
    ));
    assert_eq!(
        references(&pipeline, "tests"),
        [
            "build.Started",
            "build.Exited",
            "database.Healthy",
            "seed.Started"
        ]
    );
}

#[test]
fn yaml_1_1_words_stay_names_and_still_work_as_flags() {
    let (pipeline, _) = parse_valid("yaml-words.yml");
    let names: Vec<&str> = pipeline.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["n", "yes", "on"]);
    assert!(job(&pipeline, "yes").1.detach);
    assert!(!job(&pipeline, "on").1.detach);
    assert_eq!(references(&pipeline, "on"), ["n.ExitCode(0)"]);
}

#[test]
fn the_on_block_reads_githubs_push_filters() {
    let parsed = parse_valid_file("triggers.yml");
    let patterns = |texts: &[&str]| {
        Some(
            texts
                .iter()
                .map(|text| FilterPattern::new(text).expect("valid pattern"))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        parsed.pipeline.triggers,
        Some(Triggers {
            push: Some(PushTrigger {
                branches: patterns(&["main", "release/**", "!release/**-alpha"]),
                tags: patterns(&["v[0-9]+.*"]),
                paths_ignore: patterns(&["docs/**", "**/*.md"]),
                ..PushTrigger::default()
            }),
        })
    );
    let notes: Vec<(&str, usize)> = parsed
        .notes
        .iter()
        .map(|note| {
            let line = note.location.map_or(0, |location| location.line);
            (note.message.as_str(), line)
        })
        .collect();
    assert_eq!(
        notes,
        [
            (
                "pipekit-ci runs on push only; `pull_request` is ignored",
                14
            ),
            (
                "pipekit-ci runs on push only; `workflow_dispatch` is ignored",
                16
            ),
        ]
    );
    assert!(
        parse_valid("paper-compiler.yml").0.triggers.is_none(),
        "no `on:` block, no triggers"
    );
}

#[test]
fn secrets_are_declared_once_and_listed_by_jobs() {
    let (pipeline, notes) = parse_valid("secrets.yml");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(
        pipeline.secrets.get("registry_token"),
        Some(&pipekit_schema::SecretSource::Environment(
            "REGISTRY_TOKEN".to_owned()
        ))
    );
    assert_eq!(
        pipeline.secrets.get("deploy_key"),
        Some(&pipekit_schema::SecretSource::File(
            "./keys/deploy.pem".to_owned()
        ))
    );
    let (_, publish) = job(&pipeline, "publish");
    assert_eq!(publish.secrets, ["registry_token", "deploy_key"]);
    assert!(job(&pipeline, "build").1.secrets.is_empty());
}
