use std::time::Duration;

use super::*;

fn ok(expression: &str) -> SignalExpression {
    parse(expression).unwrap_or_else(|error| panic!("{expression}: {error:?}"))
}

fn describe(kind: &SignalKind) -> String {
    match kind {
        SignalKind::Grep { stream, regex } => {
            format!("Grep {} {}", stream.as_str(), regex.as_str())
        }
        SignalKind::Exists { path } => format!("Exists {path}"),
        SignalKind::Port { port } => format!("Port {port}"),
    }
}

#[test]
fn parses_every_constructor() {
    let cases = [
        (
            r#"Grep(stdout, "Database is ready")"#,
            "Grep stdout Database is ready",
            None,
        ),
        (
            r#"Grep(stdout, "Database is ready"):30"#,
            "Grep stdout Database is ready",
            Some(30_000),
        ),
        (
            r#"Grep(stderr, 'listening on \d+')"#,
            r"Grep stderr listening on \d+",
            None,
        ),
        (
            r#"Grep(stdout, "say \"hi\"")"#,
            r#"Grep stdout say "hi""#,
            None,
        ),
        (r#"Grep(stdout, "a\\b")"#, r"Grep stdout a\b", None),
        (
            r#"  Grep ( stdout ,"x" ) : 0.5 "#,
            "Grep stdout x",
            Some(500),
        ),
        (r#"Exists("database/ready")"#, "Exists database/ready", None),
        (r#"Exists('a/../b'):10"#, "Exists a/../b", Some(10_000)),
        ("Port(8080)", "Port 8080", None),
        ("Port( 1 ):1.25", "Port 1", Some(1_250)),
        ("Port(65535)", "Port 65535", None),
    ];
    for (expression, kind, timeout) in cases {
        let parsed = ok(expression);
        assert_eq!(describe(&parsed.kind), kind, "{expression}");
        assert_eq!(
            parsed.timeout,
            timeout.map(Duration::from_millis),
            "{expression}"
        );
    }
}

#[test]
fn reports_mistakes_with_their_range() {
    let cases = [
        ("", "the signal expression is empty", ""),
        (
            "Grepp(stdout, \"x\")",
            "`Grepp` is not a signal constructor; did you mean `Grep`?",
            "Grepp",
        ),
        ("Wait(10)", "`Wait` is not a signal constructor", "Wait"),
        (
            "ExitCode(0)",
            "`ExitCode` is implicit on every job and is not declared under `signals`",
            "ExitCode",
        ),
        ("\"ready\"", "expected a signal constructor", "\"ready\""),
        ("Grep stdout", "expected `(` after `Grep`", "s"),
        (
            "Grep(stdot, \"x\")",
            "`stdot` is not a stream; did you mean `stdout`?",
            "stdot",
        ),
        ("Grep(\"x\")", "`Grep` needs a stream first", "\""),
        ("Grep(stdout \"x\")", "expected `,` after the stream", "\""),
        ("Grep(stdout, x)", "expected the regex in quotes", "x"),
        ("Grep(stdout, \"x)", "the regex has no closing `\"`", "\"x)"),
        ("Grep(stdout, \"x\"", "expected `)` to close `Grep(`", ""),
        (
            "Grep(stdout, \"(\")",
            "invalid regex: unclosed group",
            "\"(\"",
        ),
        (
            "Grep(stdout, \"x\"):abc",
            "timeout must be a number of seconds",
            "abc",
        ),
        (
            "Grep(stdout, \"x\"):",
            "timeout must be a number of seconds",
            "",
        ),
        (
            "Grep(stdout, \"x\"):-1",
            "timeout must be a number of seconds",
            "-1",
        ),
        (
            "Grep(stdout, \"x\"):0",
            "timeout must be greater than zero",
            "0",
        ),
        (
            "Grep(stdout, \"x\") 30",
            "unexpected `30` after the signal constructor",
            "30",
        ),
        (
            "Exists(\"/etc/passwd\")",
            "`/etc/passwd` is an absolute path",
            "\"/etc/passwd\"",
        ),
        ("Exists(\"C:/x\")", "`C:/x` is an absolute path", "\"C:/x\""),
        (
            "Exists(\"a/../../b\")",
            "`a/../../b` points outside the shared storage",
            "\"a/../../b\"",
        ),
        ("Exists(\"\")", "the path of `Exists` is empty", "\"\""),
        ("Port(0)", "port 0 is out of range", "0"),
        ("Port(65536)", "port 65536 is out of range", "65536"),
        ("Port(http)", "`http` is not a port number", "http"),
        ("Port()", "`Port` needs a port number", ")"),
    ];
    for (expression, message, highlighted) in cases {
        let error = match parse(expression) {
            Ok(parsed) => panic!("{expression} parsed as {parsed:?}"),
            Err(error) => error,
        };
        assert_eq!(error.message, message, "{expression}");
        assert_eq!(
            expression.get(error.range.clone()),
            Some(highlighted),
            "{expression}: {:?}",
            error.range
        );
    }
}

#[test]
fn refuses_regexes_that_compile_too_big() {
    let error = parse(r#"Grep(stdout, "\w{1000}\w{1000}\w{1000}")"#).expect_err("too big");
    assert!(
        error.message.starts_with("the regex is too big"),
        "{}",
        error.message
    );
}

#[test]
fn refuses_regexes_too_long_to_compile_cheaply() {
    let pattern = r"(\w+\s?)*$".repeat(500);
    let error = parse(&format!("Grep(stdout, \"{pattern}\")")).expect_err("too long");
    assert_eq!(
        error.message,
        format!(
            "the regex is {} bytes long, more than the limit of 4096",
            pattern.len()
        )
    );
    ok(&format!("Grep(stdout, \"{}\")", "a".repeat(4096)));
}

#[test]
fn never_panics_on_odd_input() {
    for expression in [
        "(",
        ")",
        ":",
        "Grep(",
        "Grep(stdout,",
        "Grep(stdout, '",
        "Port(",
        "Exists(\"é",
        "Ü(",
        "Grep(stdout, \"\\",
    ] {
        assert!(parse(expression).is_err(), "{expression}");
    }
}
