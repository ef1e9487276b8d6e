#!/usr/bin/env bash
# The README's second command, and all that CI runs: formatting, lints, then every test
# (unit, snapshot and end-to-end against the built binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --workspace --quiet

# cargo prints one result line per test binary, the last often a doc-test binary with no
# test in it: end with the totals so the log says what ran.
results=$(mktemp)
trap 'rm -f "$results"' EXIT
cargo test --workspace 2>&1 | tee "$results"
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$results"
