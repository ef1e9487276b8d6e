#!/usr/bin/env bash
# The README's second command, and all that CI runs: formatting, lints, then every test
# (unit, snapshot and end-to-end against the built binary).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo build --workspace --quiet
# Broken intra-doc links and malformed doc comments fail the run like a lint would.
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

# The container tests need a Docker engine and the local test image: docker-up.sh makes
# sure of both (as root on Debian it installs and starts Docker itself).
# PIPEKIT_SKIP_DOCKER_TESTS=1 leaves Docker alone; the container tests then skip themselves
# when they find no engine or no test image.
# What this run starts, it stops: a dockerd that docker-up.sh started here (none answered
# before) is stopped again when the tests end, however they end.
started_dockerd=
stop_dockerd() {
    [ -n "$started_dockerd" ] || return 0
    local pid
    pid=$(cat /var/run/docker.pid 2>/dev/null) || return 0
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 0
    echo "stopping the dockerd this run started (pid $pid)"
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        [ -d "/proc/$pid" ] || return 0
        sleep 0.2
    done
    echo "dockerd (pid $pid) did not stop within 20 s" >&2
}
trap stop_dockerd EXIT
if [ "${PIPEKIT_SKIP_DOCKER_TESTS:-}" = 1 ]; then
    echo "PIPEKIT_SKIP_DOCKER_TESTS=1: Docker not set up; container tests skip if it is not there"
else
    if ! docker info >/dev/null 2>&1; then
        started_dockerd=1
    fi
    bash scripts/docker-up.sh
fi
export PIPEKIT_TEST_IMAGE=pipekit-test/busybox:latest

# The web UI is tested in a real headless Chromium: installed if missing, and required (a
# browser test fails rather than skips without it).
bash scripts/browser-up.sh
export PIPEKIT_REQUIRE_BROWSER=1

# cargo prints one result line per test binary, the last often a doc-test binary with no
# test in it: end with the totals so the log says what ran.
results=$(mktemp)
trap 'rm -f "$results"; stop_dockerd' EXIT
cargo test --workspace 2>&1 | tee "$results"
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "tests: %d passed, %d failed\n", passed, failed }' "$results"
