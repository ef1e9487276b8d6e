use super::*;
use crate::diagnostic::Diagnostic;
use crate::pipeline::{Awaited, Command, Condition, JobId};

fn source(text: &str) -> Source {
    Source {
        name: "pipelines/ci.yml".to_owned(),
        text: text.to_owned(),
    }
}

fn parse_ok(text: &str) -> Parsed {
    analyze(&source(text)).unwrap_or_else(|diagnostics| panic!("{text}\n{diagnostics}"))
}

fn findings(text: &str) -> Vec<Diagnostic> {
    match analyze(&source(text)) {
        Ok(parsed) => parsed.notes,
        Err(diagnostics) => diagnostics.items,
    }
}

fn messages(text: &str) -> Vec<String> {
    findings(text)
        .into_iter()
        .map(|item| item.message)
        .collect()
}

#[test]
fn names_the_pipeline_after_the_file_by_default() {
    assert_eq!(parse_ok("services: {a: {command: x}}").pipeline.name, "ci");
    assert_eq!(
        parse_ok("name: nightly\nservices: {a: {command: x}}")
            .pipeline
            .name,
        "nightly"
    );
    for (path, stem) in [
        ("ci.yml", "ci"),
        ("a/b/pipekit.yaml", "pipekit"),
        ("C:\\x\\y.yml", "y"),
        (".hidden", ".hidden"),
        ("noext", "noext"),
        ("", "pipeline"),
    ] {
        assert_eq!(file_stem(path), stem, "{path}");
    }
}

#[test]
fn accepts_pipekit_and_compose_versions() {
    for version in [
        "\"1\"", "1", "'2'", "2.4", "\"3\"", "3.8", "\"3.10\"", "1.0",
    ] {
        let text = format!("version: {version}\nservices: {{a: {{command: x}}}}");
        assert!(analyze(&source(&text)).is_ok(), "{version}");
    }
    for version in [
        "\"4\"",
        "0",
        "\"latest\"",
        "\"3.\"",
        "\"1.1\"",
        "[1]",
        "\"3.x\"",
    ] {
        let text = format!("version: {version}\nservices: {{a: {{command: x}}}}");
        assert!(analyze(&source(&text)).is_err(), "{version}");
    }
}

#[test]
fn reports_top_level_mistakes() {
    let cases = [
        (
            "servics: {a: {command: x}}",
            vec![
                "the pipeline has no `services:`",
                "unknown top-level key `servics`",
            ],
        ),
        ("name: x", vec!["the pipeline has no `services:`"]),
        ("services:", vec!["`services` lists no jobs"]),
        ("services: {}", vec!["`services` lists no jobs"]),
        (
            "services: [a, b]",
            vec!["`services` must be a mapping of job names to jobs, found a list"],
        ),
        (
            "\"just text\"",
            vec!["the pipeline must be a mapping, found a string"],
        ),
        ("# only a comment\n", vec!["the pipeline file is empty"]),
        (
            "env: [A]\nservices: {a: {command: x}}",
            vec!["an entry of `env` has no `=`"],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(messages(text), expected, "{text}");
    }
}

#[test]
fn ignores_compose_keys_with_a_note_and_extensions_silently() {
    let parsed = parse_ok(
        "x-common: &common {command: x}\nnetworks: {}\nvolumes: {}\nsecrets: {}\nservices:\n  a:\n    <<: *common\n    restart: always\n    x-note: hi\n",
    );
    let notes: Vec<&str> = parsed
        .notes
        .iter()
        .map(|note| note.message.as_str())
        .collect();
    assert_eq!(
        notes,
        [
            "`networks` is not used yet and is ignored",
            "`volumes` is not used yet and is ignored",
            "`restart` is ignored: pipekit-ci does not use it yet",
        ]
    );
    assert!(
        parsed
            .notes
            .iter()
            .all(|note| note.severity == Severity::Note)
    );
}

#[test]
fn notes_container_fields_on_host_jobs() {
    let parsed = parse_ok(
        "services:\n  a:\n    command: x\n    ports: [80]\n    user: root\n  b:\n    image: nginx\n    ports: [80]\n",
    );
    let notes: Vec<&str> = parsed
        .notes
        .iter()
        .map(|note| note.message.as_str())
        .collect();
    assert_eq!(
        notes,
        [
            "`ports` is ignored: job `a` runs as a host process (no `image`)",
            "`user` is ignored: job `a` runs as a host process (no `image`)",
        ]
    );
}

#[test]
fn reads_job_fields() {
    let parsed = parse_ok(
        "env: {CI_LEVEL: 2, DEBUG: true, EMPTY: }\nservices:\n  a:\n    image: alpine\n    command: [echo, 1, 2.50]\n    entrypoint: /bin/sh -c\n    labels: {tier: 1}\n    ports: [\"80:80\", 443]\n    volumes: [./data:/data]\n    env_file: .env\n    detach: true\n    timeout: 1.5\n",
    );
    let pipeline = parsed.pipeline;
    assert_eq!(
        pipeline
            .env
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect::<Vec<_>>(),
        ["CI_LEVEL=2", "DEBUG=true", "EMPTY="]
    );
    let job = pipeline.job(JobId(0));
    assert_eq!(
        job.command,
        Some(Command::Exec(vec![
            "echo".into(),
            "1".into(),
            "2.50".into()
        ]))
    );
    assert_eq!(job.entrypoint, Some(Command::Shell("/bin/sh -c".into())));
    assert_eq!(job.labels.get("tier").map(String::as_str), Some("1"));
    assert_eq!(job.ports, ["80:80", "443"]);
    assert_eq!(job.volumes, ["./data:/data"]);
    assert_eq!(job.env_files, [".env"]);
    assert!(job.detach);
    assert_eq!(job.timeout, Some(std::time::Duration::from_millis(1500)));
}

#[test]
fn reports_job_mistakes() {
    let cases = [
        ("services: {a: }", vec!["job `a` is empty"]),
        (
            "services: {a: [x]}",
            vec!["job `a` must be a mapping of fields, found a list"],
        ),
        (
            "services: {a: {environment: {A: 1}}}",
            vec!["job `a` has nothing to run"],
        ),
        (
            "services: {a.b: {command: x}}",
            vec!["job name `a.b` must not contain `.`"],
        ),
        (
            "services: {-a: {command: x}}",
            vec!["invalid job name `-a`"],
        ),
        (
            "services: {a: {command: x, imgae: y}}",
            vec!["unknown field `imgae` in job `a`"],
        ),
        (
            "services: {a: {command: [x, [y]]}}",
            vec!["an entry of `command` in job `a` must be a string, found a list"],
        ),
        (
            "services: {a: {command: []}}",
            vec!["`command` in job `a` is an empty list"],
        ),
        (
            "services: {a: {command: x, timeout: 0}}",
            vec!["`timeout` in job `a` must be greater than zero"],
        ),
        (
            "services: {a: {command: x, timeout: 10m}}",
            vec!["`timeout` in job `a` must be a number of seconds"],
        ),
        (
            "services: {a: {command: x, detach: yes please}}",
            vec!["`detach` in job `a` must be `true` or `false`, found a string"],
        ),
        (
            "services: {a: {image: [x]}}",
            vec!["`image` in job `a` must be a string, found a list"],
        ),
        (
            "services: {a: {build: {context: ., dockerfil: x}}}",
            vec!["unknown field `dockerfil` in `build` in job `a`"],
        ),
        (
            "services: {a: {command: x, signals: {Started: 'Port(1)'}}}",
            vec!["`Started` is an implicit signal of every job and cannot be declared"],
        ),
        (
            "services: {a: {command: x, signals: {1st: 'Port(1)'}}}",
            vec!["invalid signal name `1st` in job `a`"],
        ),
        (
            "services: {a: {command: x, signals: {up: 8080}}}",
            vec![
                "signal `up` of job `a` must be an expression like `Grep(stdout, \"ready\")`, found an integer",
            ],
        ),
        (
            "services: {a: {command: x, signals: {up: 'Port(0)'}}}",
            vec!["port 0 is out of range (signal `up` of job `a`)"],
        ),
        (
            "services: {a: {command: x, depends_on: b}}",
            vec!["`depends_on` in job `a` must be a list, found a string"],
        ),
        (
            "services: {a: {command: x, depends_on: [1]}}",
            vec![
                "an entry of `depends_on` in job `a` must be a string like `db.ready`, found an integer",
            ],
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(messages(text), expected, "{text}");
    }
}

#[test]
fn resolves_every_depends_on_form() {
    let parsed = parse_ok(
        "services:\n  db:\n    image: postgres\n    healthcheck: {test: pg_isready}\n    signals: {ready: 'Port(5432)', logs: 'Grep(stderr, \"x\")'}\n  web:\n    command: x\n    depends_on: [db, db.logs, db.Exited, db.ExitCode(3), db.Healthy]\n  compose:\n    command: x\n    depends_on:\n      db: {condition: service_healthy}\n      web: {condition: service_completed_successfully, required: true}\n  bare:\n    command: x\n    depends_on: {db: }\n",
    );
    let pipeline = parsed.pipeline;
    let db = JobId(0);
    let condition = |awaited| Condition { job: db, awaited };
    assert_eq!(
        pipeline.job(JobId(1)).depends_on,
        [
            condition(Awaited::Started),
            condition(Awaited::Signal(crate::pipeline::SignalId(1))),
            condition(Awaited::Exited),
            condition(Awaited::ExitCode(3)),
            condition(Awaited::Healthy),
        ]
    );
    assert_eq!(
        pipeline.job(JobId(2)).depends_on,
        [
            condition(Awaited::Healthy),
            Condition {
                job: JobId(1),
                awaited: Awaited::ExitCode(0)
            }
        ]
    );
    assert_eq!(
        pipeline.job(JobId(3)).depends_on,
        [condition(Awaited::Started)]
    );
    assert_eq!(
        pipeline.describe(pipeline.job(JobId(1)).depends_on[1]),
        "db.logs"
    );
}

#[test]
fn reports_reference_mistakes() {
    let base = "services:\n  db:\n    image: postgres\n    signals: {ready: 'Port(5432)'}\n  web:\n    command: x\n    depends_on: ";
    let cases = [
        (
            "[dbb.ready]",
            vec!["unknown job `dbb`"],
            Some("did you mean `db`?"),
        ),
        (
            "[db.redy]",
            vec!["job `db` declares no signal `redy`"],
            Some("did you mean `db.ready`?"),
        ),
        (
            "[db.started]",
            vec!["job `db` declares no signal `started`"],
            Some("did you mean `db.Started`?"),
        ),
        (
            "[db.Healthy]",
            vec!["`db.Healthy` needs a `healthcheck` on job `db`"],
            None,
        ),
        ("[web]", vec!["job `web` depends on itself"], None),
        (
            "{db: {condition: service_health}}",
            vec!["unknown condition `service_health`"],
            Some("did you mean `service_healthy`?"),
        ),
        (
            "{db: {conditon: service_started}}",
            vec!["unknown field `conditon` in `depends_on` of job `web`"],
            Some("did you mean `condition`?"),
        ),
        (
            "{db: {condition: service_healthy}}",
            vec!["`service_healthy` needs a `healthcheck` on job `db`"],
            None,
        ),
    ];
    for (depends_on, expected, hint) in cases {
        let text = format!("{base}{depends_on}\n");
        let items = findings(&text);
        let found: Vec<&str> = items.iter().map(|item| item.message.as_str()).collect();
        assert_eq!(found, expected, "{depends_on}");
        if let Some(hint) = hint {
            assert_eq!(items[0].hint.as_deref(), Some(hint), "{depends_on}");
        }
    }
}

#[test]
fn warns_about_duplicate_references() {
    let parsed =
        parse_ok("services:\n  a: {command: x}\n  b: {command: x, depends_on: [a, a.Started]}\n");
    assert_eq!(parsed.notes.len(), 1);
    assert_eq!(parsed.notes[0].severity, Severity::Warning);
    assert_eq!(parsed.pipeline.job(JobId(1)).depends_on.len(), 1);
}

#[test]
fn reports_each_cycle_once_at_its_closing_entry() {
    let text = "services:\n  a: {command: x, depends_on: [b]}\n  b: {command: x, depends_on: [a.ExitCode(0), a]}\n  c: {command: x, depends_on: [c.ready]}\n";
    let items = findings(text);
    let found: Vec<(&str, usize)> = items
        .iter()
        .map(|item| {
            (
                item.message.as_str(),
                item.location.map_or(0, |location| location.line),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("dependency cycle: a -> b -> a", 3),
            ("job `c` depends on itself", 4)
        ]
    );
}

#[test]
fn collects_every_problem_sorted_by_position() {
    let text =
        "services:\n  a:\n    command: x\n    depends_on: [zz]\n    timout: 1\n  b:\n    imag: x\n";
    let items = findings(text);
    let lines: Vec<usize> = items
        .iter()
        .filter_map(|item| item.location.map(|location| location.line))
        .collect();
    assert_eq!(lines, [4, 5, 6, 7]);
    assert_eq!(
        items
            .iter()
            .map(|item| item.message.as_str())
            .collect::<Vec<_>>(),
        [
            "unknown job `zz`",
            "unknown field `timout` in job `a`",
            "job `b` has nothing to run",
            "unknown field `imag` in job `b`"
        ]
    );
}

#[test]
fn locates_problems_in_merged_fields_at_the_merge() {
    let text = "x-base: &base\n  timout: 1\nservices:\n  a:\n    command: x\n    <<: *base\n";
    let items = findings(text);
    assert_eq!(items.len(), 1);
    let location = items[0].location.expect("located");
    assert_eq!((location.line, location.column), (6, 9));
}

#[test]
fn points_inside_strings_when_the_source_spells_them_verbatim() {
    let text = "services:\n  a:\n    command: x\n    signals:\n      up: \"Port(99999)\"\n";
    let location = findings(text)[0].location.expect("located");
    assert_eq!((location.line, location.column, location.len), (5, 17, 5));
    // An escape in the YAML string: the whole value is underlined instead.
    let text = "services:\n  a:\n    command: x\n    signals:\n      up: \"Port(\\x39\\x39999)\"\n";
    let location = findings(text)[0].location.expect("located");
    assert_eq!((location.line, location.column), (5, 11));
}

#[test]
fn refuses_files_over_the_size_limit() {
    let text = format!(
        "services: {{a: {{command: x}}}}\n#{}\n",
        "x".repeat(MAX_PIPELINE_BYTES)
    );
    let items = findings(&text);
    assert_eq!(items.len(), 1);
    assert!(
        items[0].message.contains("more than the limit"),
        "{}",
        items[0].message
    );
    assert_eq!(
        items[0]
            .location
            .map(|location| (location.line, location.column)),
        Some((1, 1))
    );
}
