use crate::diagnostic::{Diagnostic, Severity};
use crate::pipeline::SecretSource;
use crate::{Parsed, Source};

fn analyze(text: &str) -> Result<Parsed, Vec<Diagnostic>> {
    let source = Source {
        name: "ci.yml".to_owned(),
        text: text.to_owned(),
    };
    crate::parse(&source).map_err(|diagnostics| diagnostics.items)
}

/// Error messages with their `line:column`, and the hint when there is one.
fn errors(text: &str) -> Vec<(String, usize, usize, Option<String>)> {
    match analyze(text) {
        Ok(parsed) => panic!("{text} parsed: {:?}", parsed.pipeline),
        Err(items) => items
            .into_iter()
            .filter(|item| item.severity == Severity::Error)
            .map(|item| {
                let location = item.location.expect("located");
                (item.message, location.line, location.column, item.hint)
            })
            .collect(),
    }
}

#[test]
fn reads_declarations_and_job_lists_in_both_forms() {
    let text = "secrets:\n  token: {environment: API_TOKEN}\n  key: {file: ./keys/deploy.pem}\nservices:\n  a: {command: x, secrets: [token, {source: key}, token]}\n  b: {command: y}\n";
    let pipeline = match analyze(text) {
        Ok(parsed) => parsed.pipeline,
        Err(items) => panic!("{items:?}"),
    };
    assert_eq!(
        pipeline.secrets.get("token"),
        Some(&SecretSource::Environment("API_TOKEN".to_owned()))
    );
    assert_eq!(
        pipeline.secrets.get("key"),
        Some(&SecretSource::File("./keys/deploy.pem".to_owned()))
    );
    assert_eq!(pipeline.jobs[0].secrets, ["token", "key"]);
    assert!(pipeline.jobs[1].secrets.is_empty());
}

#[test]
fn an_undeclared_secret_is_located_with_a_suggestion() {
    let text = "secrets:\n  api_token: {environment: T}\nservices:\n  a:\n    command: x\n    secrets: [api_tokn]\n";
    assert_eq!(
        errors(text),
        [(
            "job `a` uses secret `api_tokn`, which is not declared".to_owned(),
            6,
            15,
            Some("did you mean `api_token`?".to_owned())
        )]
    );
}

#[test]
fn a_job_naming_a_secret_without_any_declarations_is_told_how_to_declare_one() {
    let found = errors("services:\n  a:\n    command: x\n    secrets:\n      - source: token\n");
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].0,
        "job `a` uses secret `token`, which is not declared"
    );
    assert_eq!((found[0].1, found[0].2), (5, 17));
    assert!(
        found[0]
            .3
            .as_deref()
            .is_some_and(|hint| hint.contains("secrets:"))
    );
}

#[test]
fn a_declaration_needs_exactly_one_known_source() {
    let cases: [(&str, &str, usize, usize); 6] = [
        ("secrets:\n  t: {}\n", "secret `t` has no source", 2, 3),
        (
            "secrets:\n  t: {environment: A, file: ./b}\n",
            "secret `t` has two sources",
            2,
            23,
        ),
        (
            "secrets:\n  t: {enviroment: A}\n",
            "unknown field `enviroment` in secret `t`",
            2,
            7,
        ),
        (
            "secrets:\n  t: ./file\n",
            "secret `t` must be a mapping like `{environment: VAR}` or `{file: ./path}`, found a string",
            2,
            6,
        ),
        (
            "secrets:\n  my-token: {environment: A}\n",
            "invalid secret name `my-token`",
            2,
            3,
        ),
        (
            "secrets: [a]\n",
            "`secrets` must be a mapping of secret names to sources, found a list",
            1,
            10,
        ),
    ];
    for (declaration, message, line, column) in cases {
        let text = format!("{declaration}services: {{a: {{command: x}}}}\n");
        let found = errors(&text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        assert_eq!(
            (found[0].0.as_str(), found[0].1, found[0].2),
            (message, line, column),
            "{text}"
        );
    }
}

#[test]
fn a_misspelt_source_gets_a_suggestion_and_no_second_error() {
    let text = "secrets:\n  t: {fiel: ./x}\nservices: {a: {command: x, secrets: [t]}}\n";
    let found = errors(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].3.as_deref(), Some("did you mean `file`?"));
}

#[test]
fn unknown_fields_of_a_long_form_entry_are_errors() {
    let text = "secrets: {t: {environment: A}}\nservices:\n  a:\n    command: x\n    secrets:\n      - source: t\n        mode: 0400\n";
    let found = errors(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].0,
        "unknown field `mode` in an entry of `secrets` in job `a`"
    );
    assert_eq!((found[0].1, found[0].2), (7, 9));
}

#[test]
fn names_pipekit_sets_itself_are_reserved() {
    for name in ["PIPEKIT_JOB", "PIPEKIT_RUN_ID", "PATH"] {
        let text =
            format!("secrets:\n  {name}: {{environment: X}}\nservices: {{a: {{command: x}}}}\n");
        let found = errors(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, format!("secret name `{name}` is reserved"));
        assert_eq!((found[0].1, found[0].2), (2, 3));
    }
}
