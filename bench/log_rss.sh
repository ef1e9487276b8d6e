#!/usr/bin/env bash
# Peak RSS and wall time of pipekit-ci while one job writes 1 GiB of log
# (100-byte lines: 99 x's and a newline, 10.7 M lines) to stdout.
# Baseline: the same command teed into a file by a shell pipeline (what the job costs
# without a runner). GNU time's "Maximum resident set size" is the largest single
# process among the measured one and its waited-for descendants, not a sum.
set -euo pipefail
. "$(dirname "$0")/common.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

job_cmd='yes "$(printf "x%.0s" $(seq 99))" | head -c 1073741824'
cat > pipekit.yml <<EOF
version: "1"
name: log-rss
services:
  chatty:
    command: '$job_cmd'
EOF

# measure LABEL CMD...: run under GNU time, print peak RSS (MB) and wall time (s).
measure() {
    local label=$1; shift
    /usr/bin/time -v -o time.txt "$@" >/dev/null 2>&1 || { echo "$label failed" >&2; cat time.txt >&2; exit 1; }
    awk -v l="$label" -F': ' '
        /Maximum resident set size/ { rss = $2 / 1024 }
        /Elapsed \(wall clock\)/   { n = split($2, t, ":"); w = (n == 3) ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2] }
        END { printf "log_rss %-14s peak RSS %7.1f MB   wall %6.2f s\n", l, rss, w }' time.txt
}

measure pipekit-ci "$PIPEKIT_CI" run --no-progress
size=$(stat -c %s .pipekit/runs/*/logs/chatty.log)
echo "log_rss pipekit-ci log file: $size bytes"
rm -rf .pipekit
measure shell-tee sh -c "$job_cmd | tee chatty.log"
rm -f chatty.log
