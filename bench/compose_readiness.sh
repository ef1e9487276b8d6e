#!/usr/bin/env bash
# The Compose way to wait for readiness, the peer of bench/readiness.sh (host) and
# bench/container_readiness.sh (containers): service `a` prints `ready <us>` and appends the
# same line to its log file a.log; its healthcheck greps that file every $INTERVAL; service
# `b` has `depends_on: a: {condition: service_healthy}` and *is* busybox `adjtimex`, so its
# stamp is its first instruction. Latency = b - a (host clock, microseconds, as in
# container_readiness.sh), N runs (default 20) of `docker-compose up -d` .. `down`,
# median, p90, p99 in ms. Compose has no host processes: both rows compare with this.
set -euo pipefail
. "$(dirname "$0")/common.sh"

N=${N:-20}
DELAY=${DELAY:-1}
INTERVAL=${INTERVAL:-100ms}
IMAGE=pipekit-test/busybox:latest
bash "$REPO_ROOT/scripts/docker-up.sh" >&2

work=$(mktemp -d)
project=pkready$$
cleanup() {
    (cd "$work" && docker-compose -p "$project" down -t 0 >/dev/null 2>&1) || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# a: exits 0 on SIGTERM (also as pid 1), so `down` takes no grace period.
cat >a.sh <<EOF
trap 'exit 0' TERM
rm -f a.log
sleep $DELAY
adjtimex | awk '/tv_sec/ { s = \$2 } /tv_usec/ { u = \$2 } END { l = sprintf("ready %d%06d", s, u); print l; print l >> "a.log" }'
sleep 30 &
wait
EOF
cat >docker-compose.yml <<EOF
version: "2.4"
services:
  a:
    image: $IMAGE
    volumes: ["$work:/workspace"]
    working_dir: /workspace
    command: ["sh", "a.sh"]
    healthcheck:
      test: ["CMD", "grep", "-q", "^ready", "/workspace/a.log"]
      interval: $INTERVAL
      timeout: 1s
      retries: 1000
  b:
    image: $IMAGE
    command: ["adjtimex"]
    depends_on:
      a: {condition: service_healthy}
EOF

us_of_adjtimex() { awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { if (s) printf "%d%06d\n", s, u }'; }
: >compose.ms
for i in $(seq "$N"); do
    docker-compose -p "$project" up -d >up.txt 2>&1 || { echo "compose_readiness: up failed:" >&2; tail -n 5 up.txt >&2; exit 1; }
    bid=$(docker-compose -p "$project" ps -q b)
    docker wait "$bid" >/dev/null
    c=$(docker logs "$bid" 2>&1 | us_of_adjtimex)
    s=$(sed -n 's/^ready \([0-9]*\).*/\1/p' a.log | head -1)
    docker-compose -p "$project" down -t 0 >/dev/null 2>&1
    [[ $s =~ ^[0-9]+$ ]] && [ -n "$c" ] || { echo "compose_readiness: run $i without stamps" >&2; exit 1; }
    awk -v a="$s" -v b="$c" 'BEGIN { printf "%.3f\n", (b - a) / 1000 }' >>compose.ms
done
echo "compose_readiness healthcheck interval $INTERVAL (ms) $(stats 90 99 <compose.ms)"
