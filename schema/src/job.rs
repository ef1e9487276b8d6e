//! One entry of `services:`: a job's fields, read into a [`Job`] plus what is left to resolve.

use crate::raw::Spanned;

use crate::context::Context;
use crate::depends_on::{self, Dependency};
use crate::diagnostic::Location;
use crate::fields;
use crate::healthcheck;
use crate::memory_size;
use crate::pipeline::{Build, Job, Signal};
use crate::raw::Node;
use crate::secrets::{self, Reference};
use crate::signal_expression::{self, IMPLICIT_SIGNALS};
use crate::suggest;

/// Fields pipekit-ci reads.
const JOB_FIELDS: [&str; 20] = [
    "image",
    "build",
    "command",
    "entrypoint",
    "environment",
    "env_file",
    "working_dir",
    "user",
    "volumes",
    "ports",
    "labels",
    "healthcheck",
    "signals",
    "depends_on",
    "detach",
    "artifacts",
    "junit",
    "timeout",
    "mem_limit",
    "secrets",
];

/// Compose fields accepted so that Compose files load, but without effect on a run.
const IGNORED_FIELDS: [&str; 21] = [
    "container_name",
    "restart",
    "networks",
    "hostname",
    "platform",
    "pull_policy",
    "tty",
    "stdin_open",
    "init",
    "deploy",
    "profiles",
    "expose",
    "extra_hosts",
    "cap_add",
    "cap_drop",
    "privileged",
    "shm_size",
    "ulimits",
    "logging",
    "stop_signal",
    "stop_grace_period",
];

/// Fields only a container can honour; a host process ignores them.
const CONTAINER_ONLY_FIELDS: [&str; 6] = [
    "ports",
    "volumes",
    "user",
    "labels",
    "entrypoint",
    "mem_limit",
];

const BUILD_FIELDS: [&str; 3] = ["context", "dockerfile", "args"];
const IGNORED_BUILD_FIELDS: [&str; 14] = [
    "target",
    "cache_from",
    "cache_to",
    "labels",
    "network",
    "shm_size",
    "extra_hosts",
    "ssh",
    "secrets",
    "platforms",
    "tags",
    "pull",
    "no_cache",
    "additional_contexts",
];

/// A job read from the file, with its `depends_on` still unresolved.
#[derive(Debug)]
pub(crate) struct JobDraft {
    pub(crate) job: Job,
    /// Every declared signal name, including those whose expression was invalid.
    pub(crate) declared_signals: Vec<String>,
    /// `healthcheck:` is present (even if invalid), so `service_healthy` can refer to it.
    pub(crate) has_healthcheck: bool,
    pub(crate) dependencies: Vec<Dependency>,
    /// Its `secrets:` list, checked against the declarations once every key is read.
    pub(crate) secrets: Vec<Reference>,
}

/// Reads one job; problems go to `cx`.
pub(crate) fn read(cx: &mut Context<'_>, name: &Spanned<String>, node: &Spanned<Node>) -> JobDraft {
    let name_location = cx.at(name);
    check_job_name(cx, &name.value, name_location);
    let mut draft = JobDraft {
        job: Job {
            name: name.value.clone(),
            ..Job::default()
        },
        declared_signals: Vec::new(),
        has_healthcheck: false,
        dependencies: Vec::new(),
        secrets: Vec::new(),
    };
    let entries = match &node.value {
        Node::Map(entries) => entries.as_slice(),
        Node::Null => {
            cx.error(name_location, format!("job `{}` is empty", name.value))
                .with_label("no fields")
                .with_hint("give it a `command`, or an `image` to run in a container");
            return draft;
        }
        _ => {
            cx.wrong_type(
                node,
                &format!("job `{}`", name.value),
                "a mapping of fields",
            );
            return draft;
        }
    };
    let mut container_only = Vec::new();
    for (key, value) in entries {
        read_field(cx, &mut draft, key, value);
        if CONTAINER_ONLY_FIELDS.contains(&key.value.as_str()) {
            container_only.push(key);
        }
    }
    let has_field = |field: &str| entries.iter().any(|(key, _)| key.value == field);
    // Field presence, not the parsed value: a mistyped `image` must not add more findings.
    if !has_field("image") && !has_field("build") {
        let job_name = &draft.job.name;
        if !has_field("command") {
            cx.error(
                name_location,
                format!("job `{job_name}` has nothing to run"),
            )
            .with_label("no `command`, `image` or `build`")
            .with_hint("give it a `command`, or an `image` to run in a container");
        }
        for key in container_only {
            let location = cx.at(key);
            cx.note(
                location,
                format!(
                    "`{}` is ignored: job `{job_name}` runs as a host process (no `image`)",
                    key.value
                ),
            )
            .with_label("ignored");
        }
    }
    draft
}

fn check_job_name(cx: &mut Context<'_>, name: &str, location: Location) {
    if name.contains('.') {
        cx.error(location, format!("job name `{name}` must not contain `.`"))
            .with_label("invalid job name")
            .with_hint(
                "`.` separates a job from its signal in `depends_on`; use `-` or `_` instead",
            );
    } else if !is_job_name(name) {
        cx.error(location, format!("invalid job name `{name}`"))
            .with_label("invalid job name")
            .with_hint("a job name starts with a letter or digit and holds only letters, digits, `_` and `-`");
    }
}

fn is_job_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphanumeric())
        && characters.all(|character| {
            character.is_ascii_alphanumeric() || character == '_' || character == '-'
        })
}

fn read_field(
    cx: &mut Context<'_>,
    draft: &mut JobDraft,
    key: &Spanned<String>,
    value: &Spanned<Node>,
) {
    let job_name = draft.job.name.clone();
    let what = format!("`{}` in job `{job_name}`", key.value);
    let job = &mut draft.job;
    match key.value.as_str() {
        "image" => job.image = fields::string(cx, value, &what),
        "build" => job.build = build(cx, value, &what),
        "command" => job.command = fields::command(cx, value, &what),
        "entrypoint" => job.entrypoint = fields::command(cx, value, &what),
        "environment" => job.environment = fields::environment(cx, value, &what),
        "env_file" => job.env_files = fields::string_list(cx, value, &what),
        "working_dir" => job.working_dir = fields::string(cx, value, &what),
        "user" => job.user = fields::string(cx, value, &what),
        "volumes" => job.volumes = fields::string_list(cx, value, &what),
        "ports" => job.ports = fields::ports(cx, value, &what),
        "labels" => job.labels = fields::string_map(cx, value, &what),
        "healthcheck" => {
            draft.has_healthcheck = !healthcheck::is_disabled(value);
            job.healthcheck = healthcheck::read(cx, value, &what);
        }
        "signals" => signals(cx, draft, value),
        "depends_on" => draft.dependencies = depends_on::read(cx, value, &job_name),
        "detach" => job.detach = fields::boolean(cx, value, &what).unwrap_or_default(),
        "artifacts" => job.artifacts = fields::string_list(cx, value, &what),
        "junit" => job.junit = fields::string_list(cx, value, &what),
        "timeout" => job.timeout = fields::positive_seconds(cx, value, &what),
        "mem_limit" => job.mem_limit = memory_size::read(cx, value, &what),
        "secrets" => {
            draft.secrets = secrets::read_references(cx, value, &job_name);
            draft.job.secrets = draft.secrets.iter().map(|r| r.name.clone()).collect();
        }
        other if other.starts_with("x-") => {}
        other if IGNORED_FIELDS.contains(&other) => {
            let location = cx.at(key);
            cx.note(
                location,
                format!("`{other}` is ignored: pipekit-ci does not use it yet"),
            )
            .with_label("ignored");
        }
        other => {
            let location = cx.at(key);
            let hint = suggest::hint(other, JOB_FIELDS.into_iter().chain(IGNORED_FIELDS));
            let diagnostic = cx
                .error(
                    location,
                    format!("unknown field `{other}` in job `{job_name}`"),
                )
                .with_label("unknown field");
            if let Some(hint) = hint {
                diagnostic.with_hint(hint);
            }
        }
    }
}

fn build(cx: &mut Context<'_>, node: &Spanned<Node>, what: &str) -> Option<Build> {
    let Node::Map(entries) = &node.value else {
        let context = fields::string(cx, node, what)?;
        return Some(Build {
            context,
            ..Build::default()
        });
    };
    let mut build = Build {
        context: ".".to_owned(),
        ..Build::default()
    };
    for (key, value) in entries {
        let field = format!("`build.{}`", key.value);
        match key.value.as_str() {
            "context" => {
                if let Some(context) = fields::string(cx, value, &field) {
                    build.context = context;
                }
            }
            "dockerfile" => build.dockerfile = fields::string(cx, value, &field),
            "args" => build.args = fields::string_map(cx, value, &field),
            other if IGNORED_BUILD_FIELDS.contains(&other) => {
                let location = cx.at(key);
                cx.note(
                    location,
                    format!("`build.{other}` is ignored: pipekit-ci does not use it yet"),
                )
                .with_label("ignored");
            }
            other => {
                let location = cx.at(key);
                let hint =
                    suggest::hint(other, BUILD_FIELDS.into_iter().chain(IGNORED_BUILD_FIELDS));
                let diagnostic = cx
                    .error(location, format!("unknown field `{other}` in {what}"))
                    .with_label("unknown field");
                if let Some(hint) = hint {
                    diagnostic.with_hint(hint);
                }
            }
        }
    }
    Some(build)
}

fn signals(cx: &mut Context<'_>, draft: &mut JobDraft, node: &Spanned<Node>) {
    let job_name = draft.job.name.clone();
    let Node::Map(entries) = &node.value else {
        if node.value != Node::Null {
            cx.wrong_type(
                node,
                &format!("`signals` in job `{job_name}`"),
                "a mapping of names to expressions",
            );
        }
        return;
    };
    for (name, value) in entries {
        draft.declared_signals.push(name.value.clone());
        check_signal_name(cx, name, &job_name);
        let Node::Str(expression) = &value.value else {
            cx.wrong_type(
                value,
                &format!("signal `{}` of job `{job_name}`", name.value),
                "an expression like `Grep(stdout, \"ready\")`",
            );
            continue;
        };
        match signal_expression::parse(expression) {
            Ok(parsed) => draft.job.signals.push(Signal {
                name: name.value.clone(),
                kind: parsed.kind,
                timeout: parsed.timeout,
            }),
            Err(error) => {
                let location = cx.inside(value, expression, error.range);
                let diagnostic = cx
                    .error(
                        location,
                        format!(
                            "{} (signal `{}` of job `{job_name}`)",
                            error.message, name.value
                        ),
                    )
                    .with_label(error.label);
                if let Some(hint) = error.hint {
                    diagnostic.with_hint(hint);
                }
            }
        }
    }
}

fn check_signal_name(cx: &mut Context<'_>, name: &Spanned<String>, job_name: &str) {
    let location = cx.at(name);
    let text = name.value.as_str();
    if IMPLICIT_SIGNALS.contains(&text) {
        cx.error(
            location,
            format!("`{text}` is an implicit signal of every job and cannot be declared"),
        )
        .with_label("reserved name")
        .with_hint("choose another name, or use the implicit one directly in `depends_on`");
        return;
    }
    let mut characters = text.chars();
    let valid = characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| {
            character.is_ascii_alphanumeric() || character == '_' || character == '-'
        });
    if !valid {
        cx.error(
            location,
            format!("invalid signal name `{text}` in job `{job_name}`"),
        )
        .with_label("invalid signal name")
        .with_hint(
            "a signal name starts with a letter or `_` and holds only letters, digits, `_` and `-`",
        );
    }
}
