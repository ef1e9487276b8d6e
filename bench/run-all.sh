#!/usr/bin/env bash
# Runs the three benchmarks in one go (about 2-3 minutes) and prints a summary table.
# Figures are comparable only within one invocation: the machine is shared.
set -euo pipefail
. "$(dirname "$0")/common.sh"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), kernel $(uname -r)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $PIPEKIT_CI"
echo

OUT_DIR=$out "$BENCH_DIR/dag.sh" 2>"$out/dag.err" | tee "$out/dag.txt"
"$BENCH_DIR/readiness.sh" | tee "$out/readiness.txt"
"$BENCH_DIR/log_rss.sh" | tee "$out/log_rss.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# field FILE PATTERN N: the Nth field of the first line matching PATTERN.
field() { awk -v n="$3" "/$2/ { print \$n; exit }" "$1"; }
kv() { sed -n "s/.*$2 *[=]\([0-9.]*\).*/\1/p" "$1" | head -1; }   # value after "key="

dag_pk=$(field "$out/dag.txt" 'dag pipekit-run +median' 4)
dag_keep=$(field "$out/dag.txt" 'dag pipekit-run-keep' 4)
dag_ninja=$(field "$out/dag.txt" 'dag ninja-j2' 4)
dag_make=$(field "$out/dag.txt" 'dag make-j2' 4)
dag_val=$(field "$out/dag.txt" 'dag pipekit-validate' 4)
rd_pk=$(grep 'pipekit-ci' "$out/readiness.txt")
rd_hw=$(grep 'hand-written' "$out/readiness.txt")
rss_pk=$(field "$out/log_rss.txt" 'log_rss pipekit-ci +peak' 5)
wall_pk=$(field "$out/log_rss.txt" 'log_rss pipekit-ci +peak' 8)
rss_sh=$(field "$out/log_rss.txt" 'log_rss shell-tee' 5)
wall_sh=$(field "$out/log_rss.txt" 'log_rss shell-tee' 8)

# verdict VALUE OP LIMIT
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == "<") ? v < l : v <= l; print ok ? "met" : "MISSED" }'; }
ratio=$(awk -v a="$dag_pk" -v b="$dag_ninja" 'BEGIN { printf "%.2f", a / b }')

printf '| workload | pipekit-ci | peer / baseline | target | verdict |\n|---|---|---|---|---|\n'
printf '| 500-job DAG, median | %s ms | ninja -j2 %s ms, make -j2 %s ms | <= 1.5x ninja (is %sx) | %s |\n' \
    "$dag_pk" "$dag_ninja" "$dag_make" "$ratio" "$(verdict "$ratio" '<=' 1.5)"
printf '| same, earlier run folders kept | %s ms | | | %sx ninja |\n' "$dag_keep" \
    "$(awk -v a="$dag_keep" -v b="$dag_ninja" 'BEGIN { printf "%.2f", a / b }')"
printf '| validate 500 jobs, median | %s ms | - | < 30 ms | %s |\n' "$dag_val" "$(verdict "$dag_val" '<' 30)"
printf '| readiness median | %s ms | bash read+spawn %s ms | < 5 ms | %s |\n' \
    "$(kv <(echo "$rd_pk") median)" "$(kv <(echo "$rd_hw") median)" "$(verdict "$(kv <(echo "$rd_pk") median)" '<' 5)"
printf '| readiness p99 | %s ms | bash read+spawn %s ms | < 20 ms | %s |\n' \
    "$(kv <(echo "$rd_pk") p99)" "$(kv <(echo "$rd_hw") p99)" "$(verdict "$(kv <(echo "$rd_pk") p99)" '<' 20)"
printf '| 1 GiB log, peak RSS | %s MB (wall %s s) | sh pipe into tee %s MB (wall %s s) | < 64 MB | %s |\n' \
    "$rss_pk" "$wall_pk" "$rss_sh" "$wall_sh" "$(verdict "$rss_pk" '<' 64)"
