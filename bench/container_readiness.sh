#!/usr/bin/env bash
# Readiness latency between containers: from the moment job `a` (in a container) prints a
# line matched by a Grep signal to the moment the dependent job `b` (another container)
# runs its first instruction. N runs (default 10), median and p90, in ms.
# Peer: the same two containers driven by hand, `docker logs -f` on a, then `docker run`
# of b once the line shows up (peers.md measured 234 ms that way).
#
# Timestamps: busybox `date` has no %N, so both containers read the host's clock with
# busybox `adjtimex` (microseconds; the read-only call needs no privilege). `a` stamps the
# clock and prints `ready <us>` at once (awk writes the line right after reading the
# stamp); `b` *is* `adjtimex`, so its stamp is taken by its first instruction. `a` waits
# $DELAY seconds (default 1) before its line, so either watcher is attached by then and
# only line -> next container is measured.
set -euo pipefail
. "$(dirname "$0")/common.sh"

N=${N:-10}
DELAY=${DELAY:-1}
IMAGE=pipekit-test/busybox:latest
bash "$REPO_ROOT/scripts/docker-up.sh" >&2

work=$(mktemp -d)
cid=
cleanup() {
    [ -z "$cid" ] || docker rm -f "$cid" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# a's script, in the source tree (pipekit-ci mounts it at /workspace, the working directory
# of its containers; the peer bind-mounts it the same way). It exits 0 on SIGTERM, also
# as the container's pid 1, so stopping the detached job takes no grace period.
cat >a.sh <<EOF
trap 'exit 0' TERM
sleep $DELAY
adjtimex | awk '/tv_sec/ { s = \$2 } /tv_usec/ { u = \$2 } END { printf "ready %d%06d\n", s, u }'
sleep 30 &
wait
EOF
cat >pipekit.yml <<EOF
version: "1"
name: container-readiness
services:
  a:
    image: pipekit-test/busybox
    detach: true
    command: ["sh", "a.sh"]
    signals:
      ready: 'Grep(stdout, "^ready")'
  b:
    image: pipekit-test/busybox
    depends_on: [a.ready]
    command: ["adjtimex"]
EOF

# us_of_adjtimex: adjtimex's output on stdin -> microseconds since the epoch.
us_of_adjtimex() { awk '/tv_sec/ { s = $2 } /tv_usec/ { u = $2 } END { if (s) printf "%d%06d\n", s, u }'; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", (b - a) / 1000 }'; }

: >pipekit.ms
pk_status=ok
for i in $(seq "$N"); do
    rm -rf .pipekit
    rc=0
    "$PIPEKIT_CI" run --no-progress >console.txt 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        pk_status="FAILED (exit $rc: $(grep -m1 -i 'error' console.txt || tail -n 1 console.txt))"
        echo "container_readiness: pipekit-ci run $i failed; last lines:" >&2
        tail -n 5 console.txt | sed 's/^/  /' >&2
        break
    fi
    logs=$(echo .pipekit/runs/*/logs)
    s=$(sed -n 's/^ready \([0-9]*\).*/\1/p' "$logs/a.log" | head -1)
    c=$(us_of_adjtimex <"$logs/b.log")
    if [ -z "$s" ] || [ -z "$c" ]; then
        pk_status="FAILED (no stamp in logs/a.log or logs/b.log)"
        echo "container_readiness: $pk_status" >&2
        break
    fi
    ms_between "$s" "$c" >>pipekit.ms
done
if [ "$pk_status" = ok ]; then
    echo "container_readiness pipekit-ci             (ms) $(stats 90 99 <pipekit.ms)"
else
    echo "container_readiness pipekit-ci             (ms) $pk_status"
fi

# Peer: start a detached, follow its log, start b when the line shows up.
: >peer.ms
for _ in $(seq "$N"); do
    cid=$(docker run -d -v "$work:/workspace" -w /workspace "$IMAGE" sh a.sh)
    line=
    while read -r line; do [[ $line =~ ^ready ]] && break; done < <(docker logs -f "$cid" 2>&1)
    c=$(docker run --rm "$IMAGE" adjtimex | us_of_adjtimex)
    docker rm -f "$cid" >/dev/null # also ends `docker logs -f`
    cid=
    s=${line#ready }
    [[ $s =~ ^[0-9]+$ ]] && [ -n "$c" ] || { echo "container_readiness: peer run without stamps" >&2; exit 1; }
    ms_between "$s" "$c" >>peer.ms
done
echo "container_readiness docker logs -f + run (ms) $(stats 90 99 <peer.ms)"
