#!/usr/bin/env bash
# Runs the benchmarks in one go (about 3-4 minutes) and prints a summary table.
# Figures are comparable only within one invocation: the machine is shared.
# The container benchmarks need Docker (scripts/docker-up.sh sets it up as root on Debian);
# PIPEKIT_SKIP_DOCKER_TESTS=1 leaves them out. The service's (bench/serve.sh, beside Buildbot,
# about 3 more minutes; it installs Buildbot into ~/.cache/pipekit-bench) print their own table
# at the end; PIPEKIT_SKIP_SERVE=1 leaves them out.
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
"$BENCH_DIR/checkout.sh" | tee "$out/checkout.txt"
containers=
if [ "${PIPEKIT_SKIP_DOCKER_TESTS:-}" != 1 ]; then
    containers=1
    OUT_DIR=$out "$BENCH_DIR/container_chain.sh" 2>"$out/container_chain.err" | tee "$out/container_chain.txt"
    "$BENCH_DIR/container_readiness.sh" 2>"$out/container_readiness.err" | tee "$out/container_readiness.txt"
fi
serve=
if [ "${PIPEKIT_SKIP_SERVE:-}" != 1 ]; then
    serve=1
    "$BENCH_DIR/serve.sh" >"$out/serve.md" 2>"$out/serve.err" || tail -n 5 "$out/serve.err" >&2
fi
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
keep_ratio=$(awk -v a="$dag_keep" -v b="$dag_ninja" 'BEGIN { printf "%.2f", a / b }')
printf '| 500-job DAG, run folder deleted before each run, median | %s ms | ninja -j2 %s ms, make -j2 %s ms | <= 2x ninja (is %sx) | %s |\n' \
    "$dag_pk" "$dag_ninja" "$dag_make" "$ratio" "$(verdict "$ratio" '<=' 2)"
printf '| same, earlier run folders kept | %s ms | ninja -j2 %s ms | <= 1.3x ninja (is %sx) | %s |\n' "$dag_keep" \
    "$dag_ninja" "$keep_ratio" "$(verdict "$keep_ratio" '<=' 1.3)"
printf '| validate 500 jobs, median | %s ms | - | < 30 ms | %s |\n' "$dag_val" "$(verdict "$dag_val" '<' 30)"
printf '| readiness median | %s ms | bash read+spawn %s ms | < 5 ms | %s |\n' \
    "$(kv <(echo "$rd_pk") median)" "$(kv <(echo "$rd_hw") median)" "$(verdict "$(kv <(echo "$rd_pk") median)" '<' 5)"
printf '| readiness p99 | %s ms | bash read+spawn %s ms | < 20 ms | %s |\n' \
    "$(kv <(echo "$rd_pk") p99)" "$(kv <(echo "$rd_hw") p99)" "$(verdict "$(kv <(echo "$rd_pk") p99)" '<' 20)"
printf '| 1 GiB log, peak RSS | %s MB (wall %s s) | sh pipe into tee %s MB (wall %s s) | < 64 MB | %s |\n' \
    "$rss_pk" "$wall_pk" "$rss_sh" "$wall_sh" "$(verdict "$rss_pk" '<' 64)"
if [ -n "$containers" ]; then
    cc=$out/container_chain.txt
    cc_raw=$(field "$cc" 'container_chain raw +median' 4)
    cc_compose=$(field "$cc" 'container_chain compose +median' 4)
    if grep -qE 'container_chain pipekit +median' "$cc"; then
        printf '| 3 containers in a chain, median | %s ms | 3x docker run --rm %s ms, docker-compose %s ms | - | no target; %sx raw, %sx compose |\n' \
            "$(field "$cc" 'container_chain pipekit +median' 4)" "$cc_raw" "$cc_compose" \
            "$(field "$cc" 'ratio pipekit\/raw' 4 | tr -d x)" "$(field "$cc" 'ratio pipekit\/compose' 4 | tr -d x)"
    else
        printf '| 3 containers in a chain, median | FAILED | 3x docker run --rm %s ms, docker-compose %s ms | - | n/a |\n' \
            "$cc_raw" "$cc_compose"
    fi
    cr_pk=$(grep 'pipekit-ci' "$out/container_readiness.txt")
    cr_peer=$(grep 'docker logs' "$out/container_readiness.txt")
    if [ -n "$(kv <(echo "$cr_pk") median)" ]; then
        cr_pk_fig="$(kv <(echo "$cr_pk") median) ms (p90 $(kv <(echo "$cr_pk") p90))"
    else
        cr_pk_fig=FAILED
    fi
    printf '| container readiness, median | %s | docker logs -f + docker run %s ms (p90 %s) | - | no target |\n' \
        "$cr_pk_fig" "$(kv <(echo "$cr_peer") median)" "$(kv <(echo "$cr_peer") p90)"
fi
if [ -n "$serve" ]; then
    echo
    echo "The service beside Buildbot (bench/serve.sh; $(sed -n 's/^serve: table written to //p' "$out/serve.err")):"
    echo
    sed -n '/^| measurement/,/^$/p' "$out/serve.md"
fi
