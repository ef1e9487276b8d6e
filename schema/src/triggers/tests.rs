use crate::diagnostic::{Diagnostic, Severity};
use crate::{FilterPattern, Parsed, PushTrigger, Source, Triggers};

const SERVICES: &str = "services: {a: {command: x}}\n";

fn analyze(on: &str) -> Result<Parsed, Vec<Diagnostic>> {
    let source = Source {
        name: "pipekit.yml".to_owned(),
        text: format!("{on}\n{SERVICES}"),
    };
    crate::parse(&source).map_err(|diagnostics| diagnostics.items)
}

fn triggers(on: &str) -> Option<Triggers> {
    match analyze(on) {
        Ok(parsed) => parsed.pipeline.triggers,
        Err(items) => panic!("{on}: {items:?}"),
    }
}

fn patterns(texts: &[&str]) -> Option<Vec<FilterPattern>> {
    Some(
        texts
            .iter()
            .map(|text| FilterPattern::new(text).expect("valid pattern"))
            .collect(),
    )
}

/// `(severity, message, line, column)` of every finding.
fn findings(on: &str) -> Vec<(Severity, String, usize, usize)> {
    let items = match analyze(on) {
        Ok(parsed) => parsed.notes,
        Err(items) => items,
    };
    items
        .into_iter()
        .map(|item| {
            let location = item.location.expect("located");
            (item.severity, item.message, location.line, location.column)
        })
        .collect()
}

#[test]
fn without_an_on_block_there_are_no_triggers() {
    assert_eq!(triggers("name: x"), None);
}

#[test]
fn on_stays_a_string_key_under_yaml_1_2() {
    // YAML 1.1 would read the key `on` as the boolean true.
    for on in ["on: push", "\"on\": push", "'on': [push]"] {
        assert_eq!(
            triggers(on),
            Some(Triggers {
                push: Some(PushTrigger::default())
            }),
            "{on}"
        );
    }
}

#[test]
fn accepts_githubs_forms() {
    let every_push = Some(Triggers {
        push: Some(PushTrigger::default()),
    });
    for on in [
        "on: push",
        "on: [push]",
        "on: [pull_request, push]",
        "on: {push: }",
        "on: {push: {}}",
        "on: {push: null, workflow_dispatch: null}",
    ] {
        assert_eq!(triggers(on), every_push, "{on}");
    }
    assert_eq!(
        triggers("on: pull_request"),
        Some(Triggers { push: None }),
        "other events only: no push runs the pipeline"
    );
    let filtered = triggers(
        "on:\n  push:\n    branches: main\n    tags: ['v*', '!v0.*']\n    paths_ignore: ['docs/**']\n",
    );
    assert_eq!(
        filtered,
        Some(Triggers {
            push: Some(PushTrigger {
                branches: patterns(&["main"]),
                tags: patterns(&["v*", "!v0.*"]),
                paths_ignore: patterns(&["docs/**"]),
                ..PushTrigger::default()
            })
        })
    );
    let given_empty = triggers("on: {push: {branches-ignore: [], tags-ignore: }}");
    assert_eq!(
        given_empty,
        Some(Triggers {
            push: Some(PushTrigger {
                branches_ignore: Some(Vec::new()),
                tags_ignore: Some(Vec::new()),
                ..PushTrigger::default()
            })
        }),
        "a filter given empty is not a filter left out"
    );
}

#[test]
fn other_events_are_noted_and_ignored() {
    assert_eq!(
        findings(
            "on:\n  push:\n  pull_request:\n    branches: [main]\n  schedule:\n    - cron: '0 0 * * *'"
        ),
        [
            (
                Severity::Note,
                "pipekit-ci runs on push only; `pull_request` is ignored".to_owned(),
                3,
                3
            ),
            (
                Severity::Note,
                "pipekit-ci runs on push only; `schedule` is ignored".to_owned(),
                5,
                3
            ),
        ]
    );
}

#[test]
fn reports_mistakes_where_they_are() {
    let error = |message: &str, line, column| (Severity::Error, message.to_owned(), line, column);
    let cases = [
        (
            "on: psuh",
            vec![error("unknown event `psuh` in `on`", 1, 5)],
        ),
        ("on:", vec![error("`on` names no event", 1, 1)]),
        (
            "on: 3",
            vec![error(
                "`on` must be an event, a list of events or a mapping of events, found an integer",
                1,
                5,
            )],
        ),
        (
            "on: {push: main}",
            vec![error(
                "`on.push` must be a mapping of filters like `branches` or nothing, found a string",
                1,
                12,
            )],
        ),
        (
            "on:\n  push:\n    branchs: [main]",
            vec![error("unknown filter `branchs` in `on.push`", 3, 5)],
        ),
        (
            "on:\n  push:\n    branches: ['release/[0-9', main]",
            vec![error(
                "invalid pattern `release/[0-9` in `on.push.branches`: this `[` is never closed by a `]`",
                3,
                25,
            )],
        ),
        (
            "on:\n  push:\n    tags:\n      - +v1",
            vec![error(
                "invalid pattern `+v1` in `on.push.tags`: `+` has no character before it to repeat",
                4,
                9,
            )],
        ),
        (
            "on:\n  push:\n    paths: {a: b}",
            vec![error(
                "`on.push.paths` must be a pattern or a list of patterns, found a mapping",
                3,
                12,
            )],
        ),
        (
            "on:\n  push:\n    branches: [main]\n    branches-ignore: [wip]",
            vec![error(
                "`on.push` cannot have both `branches` and `branches-ignore`",
                4,
                5,
            )],
        ),
        (
            "on:\n  push:\n    paths_ignore: [a]\n    paths: [b]\n    tags-ignore: [x]\n    tags: [y]",
            vec![
                error(
                    "`on.push` cannot have both `paths` and `paths-ignore`",
                    4,
                    5,
                ),
                error("`on.push` cannot have both `tags` and `tags-ignore`", 6, 5),
            ],
        ),
        (
            "on:\n  push:\n    paths-ignore: [a]\n    paths_ignore: [b]",
            vec![error(
                "`on.push` gives `paths-ignore` twice, as `paths-ignore` and `paths_ignore`",
                4,
                5,
            )],
        ),
    ];
    for (on, expected) in cases {
        assert_eq!(findings(on), expected, "{on}");
    }
}

#[test]
fn typos_get_a_suggestion() {
    for (on, suggestion) in [
        ("on: psuh", "did you mean `push`?"),
        ("on: [pull_reqest]", "did you mean `pull_request`?"),
        ("on: {push: {branchs: [a]}}", "did you mean `branches`?"),
        (
            "on: {push: {branch_ignore: [a]}}",
            "did you mean `branches-ignore`?",
        ),
        ("on: {push: {path: [a]}}", "did you mean `paths`?"),
    ] {
        let items = analyze(on).expect_err(on);
        assert_eq!(items[0].hint.as_deref(), Some(suggestion), "{on}");
    }
}

#[test]
fn warns_about_filters_that_match_nothing() {
    let warning = |message: &str, line| (Severity::Warning, message.to_owned(), line, 5);
    let cases = [
        (
            "on:\n  push:\n    branches: ['!main']",
            vec![warning(
                "`on.push.branches` has only `!` patterns, so it matches nothing",
                3,
            )],
        ),
        (
            "on:\n  push:\n    paths: []",
            vec![warning(
                "`on.push.paths` is empty, so it matches nothing",
                3,
            )],
        ),
        ("on:\n  push:\n    paths-ignore: ['!a']", vec![]),
        ("on:\n  push:\n    tags: ['v*', '!v0*']", vec![]),
    ];
    for (on, expected) in cases {
        assert_eq!(findings(on), expected, "{on}");
    }
}
