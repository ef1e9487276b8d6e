#!/usr/bin/env bash
# The pure dispatcher (no processes, no I/O) driven through synthetic graphs: 10,000 and
# 100,000 jobs, each depending on up to 4 earlier jobs, one in every thousand a fan-in of
# 1,000 jobs (100 of them at 100,000). Prints `dispatch: N jobs in M ms` per size; the two
# figures together show whether one event costs what it touches (linear) or the whole graph.
# Sizes can be given as arguments: bench/dispatch.sh 1000 10000.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO_ROOT"
cargo build --release --quiet -p pipekit-runner --example dispatch_bench >&2
"${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/examples/dispatch_bench" "$@"
