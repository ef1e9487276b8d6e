#!/usr/bin/env bash
# The service's live logs (issue 11), with the release binary:
# 1. a printed line -> seen by an SSE client: a job prints `t <ns>` (its clock) 200 times,
#    10 ms apart; a client on GET /api/v1/runs/{id}/events takes its clock when the line
#    arrives. p50/p99 in ms.
# 2. 50 SSE clients on a job writing 10,000 lines/s for 10 s: the server's CPU seconds (user
#    + system, from /proc) and peak RSS, and the lines each client saw.
# 3. the server's RSS idle, and its peak with 2 runs at once each writing 1 GiB of log
#    (100-byte lines), each followed by an SSE client.
# Needs python3 and git. Everything it starts it stops.
set -euo pipefail
. "$(dirname "$0")/common.sh"

work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
repo=$work/app
mkdir -p "$repo"
git -C "$repo" init -q -b main
commit() {
    git -C "$repo" add -A
    git -C "$repo" -c user.email=bench@localhost -c user.name=bench commit -q -m "$1"
}
printf 'services:\n  idle:\n    command: "true"\n' > "$repo/pipekit.yml"
commit first

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
(cd "$repo" && exec "$PIPEKIT_CI" serve --listen "127.0.0.1:$port" --data "$work/data" --poll 0) 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do curl -fs "$url/healthz" >/dev/null 2>&1 && break; sleep 0.05; done

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status"; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$server_pid/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$server_pid/stat"; }

# queue_run: queues the tip of main and prints the run's id (a stream of a queued run waits
# for it to start).
queue_run() {
    local id
    id=$(curl -fs -X POST "$url/api/v1/runs" -H 'content-type: application/json' \
        -d '{"repository": "app", "ref": "main"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    echo "$id"
}

echo "serve_sse idle rss=$(( $(rss_kb) / 1024 )) MB"

# 1. Line latency.
cat > "$repo/pipekit.yml" <<'EOF2'
services:
  ticks:
    command: sh -c 'sleep 1; i=0; while [ $i -lt 200 ]; do echo "t $(date +%s%N)"; sleep 0.01; i=$((i+1)); done'
EOF2
commit ticks
id=$(queue_run)
python3 "$BENCH_DIR/sse_client.py" latency "$url/api/v1/runs/$id/events?job=ticks" > "$work/latency.txt"
echo "serve_sse line-latency (ms) $(stats 99 < "$work/latency.txt")"

# 2. 50 clients on 10,000 lines/s.
cat > "$repo/flood.py" <<'EOF2'
# 100,000 lines at 10,000 a second, written 100 at a time.
import sys, time
start = time.time()
for i in range(100000):
    sys.stdout.write(f"line {i} of the flood, as a test runner would print it\n")
    if i % 100 == 99:
        sys.stdout.flush()
        time.sleep(max(0.0, start + (i + 1) / 10000 - time.time()))
EOF2
cat > "$repo/pipekit.yml" <<'EOF2'
services:
  flood:
    command: python3 flood.py
EOF2
commit flood
cpu_before=$(cpu_s)
id=$(queue_run)
python3 "$BENCH_DIR/sse_client.py" fanout "$url/api/v1/runs/$id/events?job=flood" 50 > "$work/fanout.txt"
cpu_after=$(cpu_s)
seen=$(tr ' ' '\n' < "$work/fanout.txt" | sort -n | awk 'NR==1 { min=$1 } { max=$1 } END { printf "min_lines=%d max_lines=%d", min, max }')
echo "serve_sse fanout clients=50 lines=100000 cpu=$(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.2f", b - a }') s peak_rss=$(( $(hwm_kb) / 1024 )) MB $seen"

# 3. Two runs of 1 GiB of log each, at once, each followed.
cat > "$repo/pipekit.yml" <<'EOF2'
services:
  chatty:
    command: sh -c 'yes "$(printf "x%.0s" $(seq 99))" | head -c 1073741824'
EOF2
commit chatty
first=$(queue_run)
second=$(queue_run)
python3 "$BENCH_DIR/sse_client.py" fanout "$url/api/v1/runs/$first/events?job=chatty" 1 > "$work/big1.txt" &
follower=$!
python3 "$BENCH_DIR/sse_client.py" fanout "$url/api/v1/runs/$second/events?job=chatty" 1 > "$work/big2.txt"
wait "$follower"
echo "serve_sse two-1GiB-logs peak_rss=$(( $(hwm_kb) / 1024 )) MB lines_seen=$(cat "$work/big1.txt")+$(cat "$work/big2.txt") (the service keeps 64 MiB of each log by default)"
