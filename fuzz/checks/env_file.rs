//! The `.env` parser: never a panic; every key it accepts is a valid name; a syntax error
//! names a line that exists; and any value it returns survives a double-quoted round trip.
//! Shared by `fuzz/fuzz_targets/env_file.rs` and the runner's `fuzz_corpus` test.

use pipekit_runner::storage::{EnvFileError, parse_env};

pub fn check(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    match parse_env(text) {
        Ok(pairs) => {
            for (key, value) in &pairs {
                assert!(is_valid_key(key), "accepted key {key:?}");
                let line = format!("{key}={}", double_quoted(value));
                match parse_env(&line) {
                    Ok(again) => assert_eq!(
                        again,
                        vec![(key.clone(), value.clone())],
                        "round trip of {line:?}"
                    ),
                    Err(error) => panic!("round trip of {line:?} refused: {error}"),
                }
            }
        }
        Err(EnvFileError::Syntax { line, .. }) => {
            let lines = text.lines().count();
            assert!(
                (1..=lines).contains(&line),
                "error on line {line} of {lines}"
            );
        }
        Err(other) => panic!("parse_env returned a file error: {other}"),
    }
}

fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn double_quoted(value: &str) -> String {
    let mut quoted = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => quoted.push_str("\\r"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}
