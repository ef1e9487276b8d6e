use std::collections::BTreeMap;

use crate::pipeline::{Awaited, Command};
use crate::{Diagnostics, FileReader, Options, Parsed, Source, parse_with};

/// Files in memory, by the joined path the schema asks for.
struct Files(BTreeMap<&'static str, &'static str>);

impl FileReader for Files {
    fn read(&self, path: &str) -> Result<Option<String>, String> {
        if path == "app/unreadable.yml" {
            return Err("permission denied".to_owned());
        }
        Ok(self.0.get(path).map(|text| (*text).to_owned()))
    }
}

fn source(name: &str, text: &str) -> Source {
    Source {
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

fn project(
    main: &str,
    files: &[(&'static str, &'static str)],
    overrides: &[(&str, &str)],
    profiles: &[&str],
) -> Result<Parsed, Diagnostics> {
    let reader = Files(files.iter().copied().collect());
    let options = Options {
        overrides: overrides
            .iter()
            .map(|(name, text)| source(name, text))
            .collect(),
        profiles: profiles.iter().map(|name| (*name).to_owned()).collect(),
        files: Some(&reader),
        ..Options::default()
    };
    parse_with(&source("app/compose.yml", main), &options)
}

fn ok(result: Result<Parsed, Diagnostics>) -> Parsed {
    result.unwrap_or_else(|diagnostics| panic!("{diagnostics}"))
}

/// Each error as `file:line:column message`.
fn errors(result: Result<Parsed, Diagnostics>) -> Vec<String> {
    let diagnostics = match result {
        Ok(parsed) => panic!("expected errors, got {:?}", parsed.pipeline.jobs),
        Err(diagnostics) => diagnostics,
    };
    diagnostics
        .items
        .iter()
        .map(|item| {
            let location = item.location.unwrap_or_default();
            let file = match location.file {
                0 => diagnostics.source_name.as_str(),
                n => diagnostics.included[n - 1].name.as_str(),
            };
            format!(
                "{file}:{}:{} {}",
                location.line, location.column, item.message
            )
        })
        .collect()
}

fn job<'p>(parsed: &'p Parsed, name: &str) -> &'p crate::Job {
    parsed
        .pipeline
        .jobs
        .iter()
        .find(|job| job.name == name)
        .unwrap_or_else(|| panic!("no job {name}"))
}

#[test]
fn override_files_merge_by_composes_rules() {
    let parsed = ok(project(
        "services:\n  web:\n    image: web:1\n    command: serve --port 80\n    environment: [A=1, B=2]\n    ports: [\"80:80\"]\n    volumes: [\"./data:/data\", \"./logs:/logs\"]\n",
        &[],
        &[(
            "app/override.yml",
            "services:\n  web:\n    command: [serve, --debug]\n    environment: {B: \"3\", C: \"4\"}\n    ports: [\"80:80\", \"443:443\"]\n    volumes: [\"./other:/data\"]\n  tool:\n    command: make\n",
        )],
        &[],
    ));
    let web = job(&parsed, "web");
    assert_eq!(web.image.as_deref(), Some("web:1"));
    assert_eq!(
        web.command,
        Some(Command::Exec(vec!["serve".into(), "--debug".into()])),
        "command is replaced whole"
    );
    let environment: Vec<(&str, Option<&str>)> = web
        .environment
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_deref()))
        .collect();
    assert_eq!(
        environment,
        [("A", Some("1")), ("B", Some("3")), ("C", Some("4"))],
        "a list and a mapping merge as mappings, the later file winning"
    );
    assert_eq!(web.ports, ["80:80", "443:443"], "appended without repeats");
    assert_eq!(
        web.volumes,
        ["./other:/data", "./logs:/logs"],
        "one volume per mount target"
    );
    assert!(parsed.pipeline.find_job("tool").is_some());
}

#[test]
fn extends_merges_the_base_under_the_service_in_the_same_file_and_another() {
    let parsed = ok(project(
        "services:\n  base:\n    image: base:1\n    environment: {A: \"1\"}\n  web:\n    extends: base\n    environment: {B: \"2\"}\n  worker:\n    extends: {service: common, file: ../shared/common.yml}\n    command: work\n",
        &[(
            "shared/common.yml",
            "services:\n  common:\n    build: ./ctx\n    env_file: common.env\n    command: idle\n    volumes: [\"./cache:/cache\", \"named:/named\"]\n",
        )],
        &[],
        &[],
    ));
    let web = job(&parsed, "web");
    assert_eq!(web.image.as_deref(), Some("base:1"));
    assert_eq!(web.environment.len(), 2);
    let worker = job(&parsed, "worker");
    assert_eq!(worker.command, Some(Command::Shell("work".into())));
    assert_eq!(
        worker.build.as_ref().map(|build| build.context.as_str()),
        Some("../shared/ctx"),
        "paths of the other file are made relative to this one"
    );
    assert_eq!(worker.env_files, ["../shared/common.env"]);
    assert_eq!(worker.volumes, ["../shared/cache:/cache", "named:/named"]);
}

#[test]
fn extends_mistakes_name_the_service_the_file_and_the_cycle() {
    let found = errors(project(
        "services:\n  a:\n    extends: b\n    command: x\n  b:\n    extends: a\n    command: x\n  c:\n    extends: {service: comon, file: common.yml}\n    command: x\n  d:\n    extends: {service: x, file: missing.yml}\n    command: x\n",
        &[("app/common.yml", "services:\n  common:\n    command: x\n")],
        &[],
        &[],
    ));
    assert_eq!(
        found,
        [
            "app/compose.yml:3:14 `extends` cycle: b -> a -> b",
            "app/compose.yml:6:14 `extends` cycle: a -> b -> a",
            "app/compose.yml:9:24 `extends`: no service `comon` in common.yml",
            "app/compose.yml:12:33 cannot extend a service of `missing.yml`: no such file `app/missing.yml`",
        ]
    );
}

#[test]
fn include_adds_the_other_projects_services_with_their_paths() {
    let parsed = ok(project(
        "include:\n  - ../db/compose.yml\n  - path: [tools.yml]\nservices:\n  web:\n    command: serve\n    depends_on: [db]\n",
        &[
            (
                "db/compose.yml",
                "services:\n  db:\n    build: .\n    command: postgres\nvolumes:\n  data: {}\n",
            ),
            ("app/tools.yml", "services:\n  lint:\n    command: lint\n"),
        ],
        &[],
        &[],
    ));
    let names: Vec<&str> = parsed
        .pipeline
        .jobs
        .iter()
        .map(|job| job.name.as_str())
        .collect();
    assert_eq!(names, ["web", "db", "lint"]);
    let db = job(&parsed, "db");
    assert_eq!(
        db.build.as_ref().map(|build| build.context.as_str()),
        Some("../db")
    );
    let web = job(&parsed, "web");
    assert_eq!(web.depends_on.len(), 1);
    assert_eq!(web.depends_on[0].awaited, Awaited::Started);
}

#[test]
fn include_mistakes_are_reported_where_they_are_written() {
    let found = errors(project(
        "include:\n  - compose.yml\n  - missing.yml\n  - unreadable.yml\n  - other.yml\nservices:\n  web:\n    command: x\n",
        &[(
            "app/other.yml",
            "services:\n  web:\n    command: y\n  broken:\n    comand: y\n",
        )],
        &[],
        &[],
    ));
    assert_eq!(
        found,
        [
            "app/compose.yml:2:5 include cycle: app/compose.yml -> app/compose.yml",
            "app/compose.yml:3:5 cannot include `missing.yml`: no such file `app/missing.yml`",
            "app/compose.yml:4:5 cannot include `unreadable.yml`: cannot read `app/unreadable.yml`: permission denied",
            "app/other.yml:2:3 service `web` of `app/other.yml` is already defined (line 7 of the including file)",
            "app/other.yml:4:3 job `broken` has nothing to run",
            "app/other.yml:5:5 unknown field `comand` in job `broken`",
        ]
    );
}

#[test]
fn a_file_read_on_its_own_cannot_include_or_extend_another() {
    let text = "include: [other.yml]\nservices:\n  web:\n    command: x\n";
    let found = match crate::parse(&source("compose.yml", text)) {
        Err(diagnostics) => diagnostics.items[0].message.clone(),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        found,
        "cannot include `other.yml`, and this pipeline is read without its folder"
    );
}

#[test]
fn profiles_leave_out_the_services_of_inactive_ones() {
    let main = "services:\n  web:\n    command: x\n  debug:\n    command: y\n    profiles: [debug]\n  all:\n    command: z\n    profiles: [debug, ops]\n";
    let names = |profiles: &[&str]| -> Vec<String> {
        ok(project(main, &[], &[], profiles))
            .pipeline
            .jobs
            .iter()
            .map(|job| job.name.clone())
            .collect()
    };
    assert_eq!(names(&[]), ["web"]);
    assert_eq!(names(&["ops"]), ["web", "all"]);
    assert_eq!(names(&["debug"]), ["web", "debug", "all"]);
    assert_eq!(names(&["*"]), ["web", "debug", "all"]);
    let reader = Files(BTreeMap::new());
    let options = Options {
        environment: [("COMPOSE_PROFILES".to_owned(), "ops, debug".to_owned())].into(),
        files: Some(&reader),
        ..Options::default()
    };
    let parsed = ok(parse_with(&source("compose.yml", main), &options));
    assert_eq!(
        parsed.pipeline.jobs.len(),
        3,
        "COMPOSE_PROFILES activates too"
    );
}

#[test]
fn a_job_depending_on_an_inactive_profile_says_which_to_activate() {
    let main = "services:\n  web:\n    command: x\n    depends_on: [db.Started]\n  lint:\n    command: x\n    depends_on: {db: {condition: service_started, required: false}}\n  db:\n    command: y\n    profiles: [db]\n";
    assert_eq!(
        errors(project(main, &[], &[], &[])),
        [
            "app/compose.yml:4:18 job `web` depends on `db`, which is only in profile `db`, not active"
        ]
    );
    assert_eq!(ok(project(main, &[], &[], &["db"])).pipeline.jobs.len(), 3);
}

#[test]
fn a_mistake_in_an_override_file_names_that_file() {
    let found = errors(project(
        "services:\n  web:\n    command: x\n",
        &[],
        &[("app/override.yml", "services:\n  web:\n    timout: 3\n")],
        &[],
    ));
    assert_eq!(
        found,
        ["app/override.yml:3:5 unknown field `timout` in job `web`"]
    );
    let found = errors(project(
        "services:\n  web:\n    command: x\n",
        &[],
        &[("app/override.yml", "services: [\n")],
        &[],
    ));
    assert_eq!(found.len(), 1);
    assert!(found[0].starts_with("app/override.yml:"), "{found:?}");
}

#[test]
fn a_field_set_to_nothing_by_the_later_file_is_reset() {
    let parsed = ok(project(
        "services:\n  init:\n    image: alpine\n    command: sleep infinity\n  base:\n    extends: {service: init}\n    command: !reset\n",
        &[],
        &[],
        &[],
    ));
    assert_eq!(job(&parsed, "base").command, None);
    assert_eq!(job(&parsed, "base").image.as_deref(), Some("alpine"));
}

#[test]
fn a_project_whose_every_job_is_in_an_inactive_profile_is_valid_and_runs_nothing() {
    let parsed = ok(project(
        "services:\n  c:\n    profiles: [test]\n    image: alpine\n",
        &[],
        &[],
        &[],
    ));
    assert!(parsed.pipeline.jobs.is_empty());
    let notes: Vec<&str> = parsed
        .notes
        .iter()
        .map(|note| note.message.as_str())
        .collect();
    assert_eq!(
        notes,
        ["every job is in a profile that is not active (test): nothing runs"]
    );
}

#[test]
fn hostile_chains_of_extends_and_includes_stop_at_a_depth() {
    let mut main = String::from("services:\n  s0:\n    command: x\n");
    for n in 1..5_000 {
        main.push_str(&format!("  s{n}:\n    extends: s{}\n", n - 1));
    }
    let found = errors(project(&main, &[], &[], &[]));
    assert!(
        found
            .iter()
            .any(|error| error.ends_with("`extends` chains more than 32 services deep")),
        "{:?}",
        &found[..3]
    );
    // Each file includes the next: an endless chain of distinct files.
    struct Endless;
    impl FileReader for Endless {
        fn read(&self, path: &str) -> Result<Option<String>, String> {
            Ok(Some(format!(
                "include: [\"{}x.yml\"]\n",
                path.trim_end_matches(".yml")
            )))
        }
    }
    let options = Options {
        files: Some(&Endless),
        ..Options::default()
    };
    let found = errors(parse_with(
        &source("a.yml", "include: [ax.yml]\nservices: {a: {command: x}}\n"),
        &options,
    ));
    assert!(
        found
            .iter()
            .any(|error| error.ends_with("`include` nests more than 32 files deep")),
        "{found:?}"
    );
}
