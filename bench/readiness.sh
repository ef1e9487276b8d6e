#!/usr/bin/env bash
# Readiness latency: from the moment a job prints a line matched by a Grep signal to the
# moment the dependent job's first instruction runs. Both ends stamp `date +%s%N`; the
# difference is read back from the run folder's logs. N runs (default 100), median and p99.
# Baseline: the same server command read by bash (`read` + regex match + spawning `date`).
set -euo pipefail
. "$(dirname "$0")/common.sh"

N=${N:-100}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The server stamps the time, prints it on the `ready` line, then stays up (detach).
server_cmd='echo "ready $(date +%s%N)"; exec sleep 30'
cat > pipekit.yml <<EOF
version: "1"
name: readiness
services:
  server:
    detach: true
    command: ["sh", "-c", '$server_cmd']
    signals:
      ready: 'Grep(stdout, "^ready")'
  client:
    depends_on: [server.ready]
    command: ["date", "+%s%N"]
EOF

: > pipekit.ms
for _ in $(seq "$N"); do
    rm -rf .pipekit
    "$PIPEKIT_CI" run --no-progress >/dev/null 2>&1
    logs=$(echo .pipekit/runs/*/logs)
    s=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$logs/server.log")
    c=$(grep -o '^[0-9]*' "$logs/client.log")
    echo "scale=3; ($c - $s) / 1000000" | bc >> pipekit.ms
done
echo "readiness pipekit-ci   (ms) $(stats 90 99 < pipekit.ms)"

# Baseline: what a hand-written watcher on the host costs. Read lines until one matches,
# then spawn the "client" (`date`), then stop the server.
: > baseline.ms
for _ in $(seq "$N"); do
    {
        while read -r line; do [[ $line =~ ^ready ]] && break; done
        c=$(date +%s%N)
        kill "$!" 2>/dev/null || true
    } < <(sh -c "$server_cmd")
    s=${line#ready }
    echo "scale=3; ($c - $s) / 1000000" | bc >> baseline.ms
done
echo "readiness hand-written (ms) $(stats 90 99 < baseline.ms)"
