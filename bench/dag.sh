#!/usr/bin/env bash
# 500 no-op jobs (10 layers x 50, each job depending on the whole previous layer):
# pipekit-ci run vs ninja -j2 vs make -j2, plus pipekit-ci validate, with hyperfine.
# Prints medians in ms and the pipekit/ninja ratio; hyperfine JSON goes to $OUT_DIR.
set -euo pipefail
. "$(dirname "$0")/common.sh"

RUNS=${RUNS:-10}
OUT_DIR=${OUT_DIR:-$(mktemp -d)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 "$BENCH_DIR/gen_dag.py" "$work"
cd "$work"

# Sanity: every tool runs the whole graph and succeeds.
"$PIPEKIT_CI" run --no-progress >console.txt 2>&1 || { echo "pipekit-ci run failed" >&2; exit 1; }
# Worth tracking: it used to grow with jobs x dependencies^2 (12 MB for this graph).
echo "dag pipekit-run console output: $(wc -l <console.txt) lines, $(wc -c <console.txt) bytes"
rm -f console.txt
ninja -j2 | grep -q '\[500/500\]' || { echo "ninja did not run 500 edges" >&2; exit 1; }
make -j2 -s

# The main pipekit-run figure removes the run folders before every run (--prepare), so
# the temp dir stays small. On ext4 that makes the next run's inode allocations slower
# (recently deleted inodes are skipped, for about 30 s after their deletion), so
# pipekit-run-keep keeps the folders of earlier runs, as a CI machine would. It runs first,
# in an invocation of its own with the peers: measured after the deleting runs, it paid
# for their deletions too (6,000 inodes freed in the seconds before). One --prepare per
# command; `true` for the others.
hyperfine --warmup 2 --runs "$RUNS" --style basic --export-json "$OUT_DIR/dag-keep.json" \
    -n pipekit-run-keep "'$PIPEKIT_CI' run --no-progress >/dev/null 2>&1" \
    -n ninja-j2 'ninja -j2 >/dev/null' \
    -n make-j2 'make -j2 -s' \
    -n pipekit-validate "'$PIPEKIT_CI' validate >/dev/null 2>&1" >&2
hyperfine --warmup 2 --runs "$RUNS" --style basic --export-json "$OUT_DIR/dag-deleted.json" \
    --prepare 'rm -rf .pipekit' \
    -n pipekit-run "'$PIPEKIT_CI' run --no-progress >/dev/null 2>&1" >&2
python3 - "$OUT_DIR" <<'EOF2'
import json, os, sys
results = []
for name in ("dag-keep.json", "dag-deleted.json"):
    results += json.load(open(os.path.join(sys.argv[1], name)))["results"]
json.dump({"results": results}, open(os.path.join(sys.argv[1], "dag.json"), "w"))
EOF2

echo "hyperfine JSON: $OUT_DIR/dag.json" >&2
python3 - "$OUT_DIR/dag.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
for k, v in med.items():
    print(f"dag {k:18} median {v:8.1f} ms  (min {r[k]['min']*1000:.1f}, max {r[k]['max']*1000:.1f})")
print(f"dag ratio pipekit-run/ninja-j2 {med['pipekit-run'] / med['ninja-j2']:.2f}x (target <= 2x)")
print(f"dag ratio pipekit-run-keep/ninja-j2 {med['pipekit-run-keep'] / med['ninja-j2']:.2f}x (target <= 1.3x)")
print(f"dag validate {med['pipekit-validate']:.1f} ms (target < 30 ms)")
EOF
