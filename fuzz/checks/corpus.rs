//! The inputs a replay test feeds to a check: the fuzzers' seeds (`fixtures/fuzz/<target>/`)
//! and every crash they found (`fixtures/fuzz-regressions/<target>/`).

use std::path::{Path, PathBuf};

/// `(path, bytes)` of every input for `target`, sorted by path.
pub fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut inputs = Vec::new();
    for folder in ["fuzz", "fuzz-regressions"] {
        let Ok(entries) = std::fs::read_dir(fixtures.join(folder).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a fixture entry").path();
            let bytes = std::fs::read(&path).expect("a readable fixture");
            inputs.push((path, bytes));
        }
    }
    inputs.sort();
    assert!(inputs.len() >= 5, "the seeds of `{target}` are missing");
    inputs
}

/// Runs `check` on every input of `target`, naming the input that fails.
pub fn replay(target: &str, check: fn(&[u8])) {
    for (path, bytes) in inputs(target) {
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        if let Err(panic) = outcome {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            panic!("{}: {message}", path.display());
        }
    }
}
