#!/usr/bin/env bash
# gitlab-ci-local on no-op DAGs, next to pipekit-ci, ninja -j2 and make -j2 (bench/gen_dag.py):
#   fan-500       fan-out/fan-in: root, 498 jobs after it, sink after all of them; all four
#   layered-LxW   L stages x W jobs, each stage after the whole previous one: the shape of
#                 bench/dag.sh (10x50), at the sizes of $LAYERED_SHAPES, gitlab-ci-local only.
#                 Its dependency walk follows every path (no visited set), W^(L-1) of them:
#                 3x10 finishes in seconds, 5x20 not in 100 s, 10x50 never. Each size gets
#                 $LAYERED_TIMEOUT seconds; the script reports the largest it finished.
# $GITLAB_CI_LOCAL is the gitlab-ci-local command (bench/peers.sh installs one, with Node 22).
# Its jobs run in its shell executor, `--concurrency 2` to match -j2. RUNS (default 10) for the
# fast tools, GITLAB_RUNS (default 3) for gitlab-ci-local. Prints one line per figure:
#   gitlab_dag <shape> <tool> median <ms> ms (min .., max ..)
set -euo pipefail
. "$(dirname "$0")/common.sh"

RUNS=${RUNS:-10}
GITLAB_RUNS=${GITLAB_RUNS:-3}
LAYERED_SHAPES=${LAYERED_SHAPES:-3x10 4x10 5x10}
LAYERED_TIMEOUT=${LAYERED_TIMEOUT:-60}
OUT_DIR=${OUT_DIR:-$(mktemp -d)}
: "${GITLAB_CI_LOCAL:?set GITLAB_CI_LOCAL to the gitlab-ci-local command (bench/peers.sh does)}"
# Every GCL_* variable is read by gitlab-ci-local as an option: none may leak in.
for v in $(compgen -e | grep '^GCL_' || true); do unset "$v"; done
gcl="'$GITLAB_CI_LOCAL' --concurrency 2 >/dev/null 2>&1"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# medians JSON SHAPE: one line per command of a hyperfine JSON export.
medians() {
    python3 - "$1" "$2" <<'PY'
import json, sys
for x in json.load(open(sys.argv[1]))["results"]:
    print(f"gitlab_dag {sys.argv[2]} {x['command']} median {x['median']*1000:.1f} ms"
          f" (min {x['min']*1000:.1f}, max {x['max']*1000:.1f})")
PY
}

# gitlab_ok DIR LAST: one gitlab-ci-local run in DIR passes, job LAST included.
gitlab_ok() {
    (cd "$1" && "$GITLAB_CI_LOCAL" --concurrency 2 >gcl.txt 2>&1) || { echo "gitlab-ci-local failed in $1:" >&2; tail -n 5 "$1/gcl.txt" >&2; return 1; }
    grep -Eq "PASS +$2 *\$" "$1/gcl.txt" || { echo "gitlab-ci-local did not pass $2" >&2; return 1; }
    rm -f "$1/gcl.txt"
}

# fan-500: all four.
python3 "$BENCH_DIR/gen_dag.py" "$work/fan" --fan 500
gitlab_repo "$work/fan"
gitlab_ok "$work/fan" sink
cd "$work/fan"
"$PIPEKIT_CI" run --no-progress >/dev/null 2>&1 || { echo "pipekit-ci run failed on fan-500" >&2; exit 1; }
ninja -j2 | grep -q '\[500/500\]' || { echo "ninja did not run 500 edges" >&2; exit 1; }
hyperfine --warmup 2 --runs "$RUNS" --style basic --export-json "$OUT_DIR/gitlab_fan.json" \
    --prepare 'rm -rf .pipekit' --prepare true --prepare true \
    -n pipekit-run "'$PIPEKIT_CI' run --no-progress >/dev/null 2>&1" \
    -n ninja-j2 'ninja -j2 >/dev/null' \
    -n make-j2 'make -j2 -s' >&2
medians "$OUT_DIR/gitlab_fan.json" fan-500
hyperfine --warmup 0 --runs "$GITLAB_RUNS" --style basic --export-json "$OUT_DIR/gitlab_fan_gcl.json" \
    -n gitlab-ci-local "$gcl" >&2
medians "$OUT_DIR/gitlab_fan_gcl.json" fan-500
cd "$work"

# Layered shapes (LAYERSxWIDTH, every job after the whole previous layer) as stages: one
# timed run per size, smallest first; stop at the first that does not finish in time.
for shape in $LAYERED_SHAPES; do
    layers=${shape%x*} width=${shape#*x}
    n=$((layers * width))
    dir=$work/layered-$shape
    python3 "$BENCH_DIR/gen_dag.py" "$dir" "$layers" "$width"
    gitlab_repo "$dir"
    t0=$(date +%s%N)
    rc=0
    (cd "$dir" && timeout "$LAYERED_TIMEOUT" "$GITLAB_CI_LOCAL" --concurrency 2 >gcl.txt 2>&1) || rc=$?
    ms=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
    if [ "$rc" = 0 ] && grep -Eq "PASS +l$((layers - 1))-j$((width - 1)) *\$" "$dir/gcl.txt"; then
        echo "gitlab_dag layered-$shape gitlab-ci-local median $ms ms (one run, $n jobs)"
    elif [ "$rc" = 124 ]; then
        echo "gitlab_dag layered-$shape gitlab-ci-local TIMEOUT after ${LAYERED_TIMEOUT} s ($n jobs)"
        break
    else
        echo "gitlab_dag layered-$shape gitlab-ci-local FAILED (exit $rc; $(tail -n 1 "$dir/gcl.txt"))"
        break
    fi
done
