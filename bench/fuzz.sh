#!/usr/bin/env bash
# bench/fuzz.sh [seconds-per-target] [target...]
# Builds the cargo-fuzz targets in fuzz/ and runs each for the given time (default 60 s; all
# four targets by default), one after the other under `nice -n 19`, seeded from
# fixtures/fuzz/<target>/. Prints per target: ran clean for N s with E executions, or the
# crash file. Grown corpora go to fuzz/corpus/, crashes to fuzz/artifacts/<target>/, logs to
# fuzz/logs/ (all gitignored). Exit status 1 if any target found a crash.
#
# Only a stable toolchain is assumed: RUSTC_BOOTSTRAP=1 lets it take cargo-fuzz's nightly
# flags. FUZZ_SANITIZER (default none; address works too, slower) picks the sanitizer;
# FUZZ_TIMEOUT (default 10) is the seconds one input may take before it counts as a hang.
# artifact_extract unpacks every input into a fresh temp folder: TMPDIR defaults to
# /dev/shm when it exists, since creating and deleting that many files on a disk is slow.
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FUZZ_DIR=$REPO_ROOT/fuzz
ALL_TARGETS=(pipeline signal_expression env_file artifact_extract)

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
case $seconds in '' | *[!0-9]*) echo "usage: $0 [seconds-per-target] [target...]" >&2; exit 2 ;; esac

command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz missing: cargo install cargo-fuzz" >&2; exit 2; }
export RUSTC_BOOTSTRAP=1
# Instrumented builds must not share (and thrash) the workspace's target folder.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$FUZZ_DIR/target}
sanitizer=${FUZZ_SANITIZER:-none}
timeout=${FUZZ_TIMEOUT:-10}
fuzz_flags=(--sanitizer "$sanitizer" --debug-assertions)
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi

cd "$REPO_ROOT"
for target in "${targets[@]}"; do
    [ -d "fixtures/fuzz/$target" ] || { echo "unknown target $target (no fixtures/fuzz/$target)" >&2; exit 2; }
done
for target in "${targets[@]}"; do
    nice -n 19 cargo fuzz build "${fuzz_flags[@]}" "$target" >&2
done

mkdir -p "$FUZZ_DIR/logs"
failed=0
for target in "${targets[@]}"; do
    corpus=$FUZZ_DIR/corpus/$target
    artifacts=$FUZZ_DIR/artifacts/$target
    log=$FUZZ_DIR/logs/$target.log
    mkdir -p "$corpus" "$artifacts"
    # The first corpus folder receives new inputs; the committed seeds are only read.
    if nice -n 19 cargo fuzz run "${fuzz_flags[@]}" "$target" "$corpus" "fixtures/fuzz/$target" -- \
        -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 \
        -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        elapsed=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
        corpus_size=$(find "$corpus" -type f | wc -l)
        echo "$target: ran clean for ${elapsed:-?} s, ${runs:-?} executions, corpus $corpus_size inputs"
    else
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "$target: FAILED, crash file ${crash:-none written}; log $log"
        failed=1
    fi
done
exit "$failed"
