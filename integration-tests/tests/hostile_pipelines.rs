//! Hostile pipeline files through the real binary: each is refused with exit code 2 and a
//! `file:line:column` error, quickly, in a few lines of output, and without the process
//! growing by more than a few MB.
//!
//! A test binary of its own, with one test, so that `RUSAGE_CHILDREN` (the peak resident size
//! of every child this process waited for) measures exactly these `validate` runs.

#[path = "end_to_end/common/binary.rs"]
mod binary;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::resource::{UsageWho, getrusage};

/// "A fraction of a second" in a release build; unoptimised test builds on a loaded CI
/// machine get more room, which still catches anything exponential.
const TIME_BOUND: Duration = Duration::from_secs(3);
/// How much more than validating a one-line pipeline any hostile file may cost.
const MEMORY_BOUND_KB: i64 = 8 * 1024;
/// A clipped source snippet and a hint fit in this; a file echoed back would not.
const OUTPUT_BOUND: usize = 4 * 1024;

fn peak_children_kb() -> i64 {
    getrusage(UsageWho::RUSAGE_CHILDREN)
        .map(|usage| usage.max_rss())
        .unwrap_or(0)
}

fn validate(path: &Path) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let output = Command::new(binary::binary())
        .arg("validate")
        .arg("-f")
        .arg(path)
        .output()
        .expect("pipekit-ci runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr, started.elapsed())
}

fn nested_mappings(depth: usize) -> String {
    (0..depth)
        .map(|level| format!("{}a{level}:\n", " ".repeat(level)))
        .collect()
}

fn hostile_files() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let alias_bomb =
        std::fs::read_to_string(binary::workspace_root().join("fixtures/invalid/alias-bomb.yml"))
            .expect("fixture");
    let mut huge = String::from("services:\n  a:\n    command: x\n");
    huge.push_str(&format!("# {}\n", "x".repeat(3 * 1024 * 1024)));
    vec![
        // (file, text, expected location prefix, expected message)
        ("huge.yml", huge, "huge.yml:1:1", "larger than 2 MiB"),
        ("bomb.yml", alias_bomb, "bomb.yml:", "expands to more YAML"),
        (
            "brackets.yml",
            "[".repeat(100_000),
            "brackets.yml:1:",
            "nested too deeply",
        ),
        (
            "braces.yml",
            format!("services: {}", "{a: ".repeat(100_000)),
            "braces.yml:1:",
            "nested too deeply",
        ),
        (
            "deep.yml",
            nested_mappings(1_000),
            "deep.yml:",
            "nested too deeply",
        ),
        (
            "duplicate.yml",
            "services:\n  web:\n    command: a\n  db:\n    command: b\n  web:\n    command: c\n"
                .to_owned(),
            "duplicate.yml:6:3",
            "first defined on line 2",
        ),
        (
            "typo.yml",
            "services:\n  web:\n    command: a\n    timout: 30\n".to_owned(),
            "typo.yml:4:5",
            "did you mean `timeout`?",
        ),
        (
            "big-regex.yml",
            "services:\n  web:\n    command: a\n    signals:\n      up: Grep(stdout, \"\\\\w{1000}{1000}\")\n"
                .to_owned(),
            "big-regex.yml:5:",
            "the regex is too big",
        ),
        (
            "long-regex.yml",
            format!(
                "services:\n  web:\n    command: a\n    signals:\n      up: Grep(stdout, \"{}\")\n",
                "(a+)+$".repeat(2_000)
            ),
            "long-regex.yml:5:",
            "more than the limit of 4096",
        ),
    ]
}

#[test]
fn hostile_pipeline_files_are_refused_quickly_and_cheaply() {
    let folder = tempfile::tempdir().expect("temp dir");
    let plain = folder.path().join("plain.yml");
    std::fs::write(&plain, "services:\n  web:\n    command: 'true'\n").expect("write");
    let (code, stderr, _) = validate(&plain);
    assert_eq!(code, Some(0), "{stderr}");
    let baseline = peak_children_kb();

    for (name, text, location, message) in hostile_files() {
        let path = folder.path().join(name);
        std::fs::write(&path, text).expect("write");
        let (code, stderr, took) = validate(&path);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(location),
            "{name} lacks {location}: {stderr}"
        );
        assert!(
            stderr.contains(message),
            "{name} lacks {message:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            stderr.len() < OUTPUT_BOUND,
            "{name}: {} bytes of error output",
            stderr.len()
        );
        assert!(took < TIME_BOUND, "{name} took {took:?}");
    }

    let grown = peak_children_kb() - baseline;
    assert!(
        grown < MEMORY_BOUND_KB,
        "a hostile file cost {grown} KB more than a plain one (baseline {baseline} KB)"
    );
}
