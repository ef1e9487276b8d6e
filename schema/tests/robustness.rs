//! No input, however malformed, makes parsing panic, hang or balloon.

use std::path::Path;
use std::time::{Duration, Instant};

use pipekit_schema::{Diagnostics, Severity, Source};

fn parse(text: &str) -> Result<pipekit_schema::Parsed, Diagnostics> {
    let source = Source {
        name: "pipekit.yml".to_owned(),
        text: text.to_owned(),
    };
    let result = pipekit_schema::parse(&source);
    if let Err(diagnostics) = &result {
        assert!(
            diagnostics
                .items
                .iter()
                .any(|item| item.severity == Severity::Error),
            "failure without an error: {:?}",
            diagnostics.items
        );
        // Rendering must not panic either, whatever the spans.
        let _ = diagnostics.render(false);
        let _ = diagnostics.render(true);
    }
    result
}

#[test]
fn deep_flow_nesting_is_an_error() {
    let text = "[".repeat(100_000);
    let diagnostics = parse(&text).expect_err("too deep");
    assert!(
        diagnostics.items[0].message.contains("nested too deeply"),
        "{diagnostics}"
    );
    let text = format!("services: {}", "{a: ".repeat(100_000));
    assert!(parse(&text).is_err());
}

#[test]
fn deep_block_nesting_is_an_error() {
    let mut text = String::new();
    for depth in 0..1_000 {
        text.push_str(&" ".repeat(depth));
        text.push_str("a:\n");
    }
    assert!(parse(&text).is_err());
}

#[test]
fn alias_bombs_fail_fast() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/invalid/alias-bomb.yml");
    let text = std::fs::read_to_string(path).expect("fixture");
    let started = Instant::now();
    let diagnostics = parse(&text).expect_err("alias bomb");
    let elapsed = started.elapsed();
    assert!(
        diagnostics.items[0]
            .message
            .contains("expands to more YAML"),
        "{diagnostics}"
    );
    // Well under 100 ms in release builds; generous here for unoptimised, loaded CI machines.
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
}

#[test]
fn a_long_file_may_reuse_a_few_anchors_often() {
    // As sentry self-hosted's Compose file does: a handful of `x-` anchors merged into every
    // service (there 142 aliases of 10 anchors in 34 KB).
    let mut text = String::from(
        "x-defaults: &defaults\n  command: \"true\"\n  environment:\n    A: a\n    B: b\n",
    );
    text.push_str("x-env: &env\n  C: c\n");
    text.push_str("services:\n");
    for n in 0..150 {
        text.push_str(&format!(
            "  service-{n}:\n    <<: *defaults\n    labels:\n      <<: *env\n      purpose: the service numbered {n} in a long file\n      owner: the team that looks after service {n}\n      docs: https://example.com/services/{n}/readme\n"
        ));
    }
    assert!(text.len() > 20_000, "{}", text.len());
    let parsed = parse(&text).unwrap_or_else(|diagnostics| panic!("{diagnostics}"));
    assert_eq!(parsed.pipeline.job_ids().count(), 150);
}

#[test]
fn truncated_pipelines_never_panic() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/valid/compose.yml");
    let text = std::fs::read_to_string(path).expect("fixture");
    for end in (0..text.len()).filter(|end| text.is_char_boundary(*end)) {
        let _ = parse(&text[..end]);
    }
}

#[test]
fn garbage_never_panics() {
    let samples = [
        "\0",
        "\u{feff}services: {a: {command: x}}",
        "services: {a: {command: x}}\n---\nservices: {}",
        "services: !!binary aGVsbG8=",
        "services: {a: {command: !custom x}}",
        "? [a, b]\n: c",
        "services: {a: {signals: {s: \"Grep(stdout, \\\"\\\\\")\"}, command: x}}",
        "services: {a: {depends_on: [\".\", \"..\", \"a..b\", \"é.ü\"], command: x}}",
        "services:\n  a:\n    command: x\n    timeout: .nan",
        "services:\n  a:\n    command: x\n    timeout: 1e400",
        "services:\n  a:\n    command: x\n    timeout: 18446744073709551616",
        "services:\n  a:\n    command: x\n    ports: [99999999999999999999999]",
        "services: {a: {command: x, healthcheck: {test: x, retries: 99999999999}}}",
        "services: {a: {command: x, depends_on: [b.ExitCode(99999999999999999999)]}, b: {command: y}}",
        "\t\t\t",
        "&a [*a]",
        "a: &a\n  b: *a",
        "*unknown",
        "services: &s {a: {command: x, depends_on: [a]}}\nx-again: *s",
        "{{{{}}}}",
        "\"\\u0000\": 1",
        "services:\n  a:\n    command: |\n      multi\n      line\n    signals:\n      s: >\n        Port(\n        70000)",
    ];
    for sample in samples {
        let _ = parse(sample);
    }
}

#[test]
fn random_bytes_never_panic() {
    // A fixed xorshift stream: reproducible, and needs no extra dependency.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let alphabet: Vec<char> = "ab :-\n\t[]{}\"'&*!|>#,.()\\?%@`0é".chars().collect();
    for _ in 0..2_000 {
        let mut text = String::new();
        for _ in 0..(state % 120) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let index = usize::try_from(state % alphabet.len() as u64).expect("small index");
            text.push(alphabet[index]);
        }
        let _ = parse(&text);
    }
}
