#!/usr/bin/env bash
# The README's second command, and all that CI runs: formatting, lints, then every test
# (unit, snapshot and end-to-end against the built binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --workspace --quiet
cargo test --workspace
