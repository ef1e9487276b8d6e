#!/usr/bin/env bash
# pipekit-ci and its peers side by side, in one run (issue 5). Installs what is missing,
# makes sure Docker is up, builds pipekit-ci in release, runs every workload with pipekit-ci
# and its peers, and writes a markdown table (workload | pipekit-ci | peers | ratio | target |
# verdict) to stdout and to bench/results/peers-<date>.md.
#
#   bench/peers.sh           full run, the published numbers (about 15 minutes)
#   bench/peers.sh --quick   few iterations, for development (a few minutes)
#
# Peers: ninja -j2, make -j2, gitlab-ci-local (shell and Docker executors), docker run,
# docker-compose (chain; healthcheck readiness), a bash read loop, `sh | tee`.
# Installs: apt-get ninja-build make docker-compose hyperfine zstd rsync busybox-static time
# bc git; npm node@22 into $PEERS_CACHE/node22 and gitlab-ci-local into $PEERS_CACHE/gcl
# ($PEERS_CACHE defaults to ~/.cache/pipekit-bench). bench/artifact_handoff.sh is run too when
# it exists, and its lines are appended. Figures compare only within one run.
set -euo pipefail

quick=
for arg in "$@"; do
    case $arg in
        --quick) quick=1 ;;
        -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "peers.sh: unknown argument '$arg' (expected --quick)" >&2; exit 2 ;;
    esac
done

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
PEERS_CACHE=${PEERS_CACHE:-$HOME/.cache/pipekit-bench}
say() { echo "peers: $*" >&2; }

# --- install what is missing --------------------------------------------------------------
apt_pkgs=(ninja-build make docker-compose hyperfine zstd rsync busybox-static time bc git python3)
missing=()
for p in "${apt_pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    [ "$(id -u)" = 0 ] || { echo "peers.sh: missing ${missing[*]}; run as root or install them" >&2; exit 1; }
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi
command -v npm >/dev/null || { say "apt-get install npm"; apt-get install -y -qq npm >&2; }
node22=$PEERS_CACHE/node22/node_modules/.bin
if ! "$node22/node" --version 2>/dev/null | grep -q '^v22\.'; then
    say "npm install node@22 into $PEERS_CACHE/node22"
    npm install --silent --prefix "$PEERS_CACHE/node22" node@22 >&2
fi
if [ ! -x "$PEERS_CACHE/gcl/node_modules/.bin/gitlab-ci-local" ]; then
    say "npm install gitlab-ci-local into $PEERS_CACHE/gcl"
    npm install --silent --prefix "$PEERS_CACHE/gcl" gitlab-ci-local >&2
fi
# gitlab-ci-local needs Node >= 22 (on 20: "….union is not a function"): a wrapper puts it
# first on PATH for that command only.
mkdir -p "$PEERS_CACHE/bin"
GITLAB_CI_LOCAL=$PEERS_CACHE/bin/gitlab-ci-local
cat >"$GITLAB_CI_LOCAL" <<EOF
#!/bin/sh
PATH='$node22':\$PATH exec '$PEERS_CACHE/gcl/node_modules/.bin/gitlab-ci-local' "\$@"
EOF
chmod +x "$GITLAB_CI_LOCAL"
export GITLAB_CI_LOCAL

# --- Docker and the binary ------------------------------------------------------------------
bash "$REPO_ROOT/scripts/docker-up.sh" >&2
checkout=$(cd "$REPO_ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')
# The table names what was measured: the checkout's build, or the binary given.
measured="pipekit-ci $checkout"
if [ -n "${PIPEKIT_CI:-}" ]; then
    measured="pipekit-ci binary $PIPEKIT_CI (checkout $checkout)"
else
    say "cargo build --release -p pipekit-ci"
    (cd "$REPO_ROOT" && cargo build --release -p pipekit-ci) >&2
    PIPEKIT_CI=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/pipekit-ci
fi
export PIPEKIT_CI

# --- iterations -----------------------------------------------------------------------------
if [ -n "$quick" ]; then
    dag_runs=3 gitlab_runs=1 chain_runs=3 ready_n=20 cready_n=3 compose_n=3 shapes="3x10"
else
    dag_runs=10 gitlab_runs=3 chain_runs=10 ready_n=100 cready_n=20 compose_n=20 shapes="3x10 4x10 5x10"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$BENCH_DIR/results"
report=$BENCH_DIR/results/peers-$(date -u +%Y-%m-%dT%H%MZ).md
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# step NAME SCRIPT [VAR=VALUE...] [-- ARG...]: runs one bench script, its lines into
# $out/NAME.txt. A failing script leaves its rows as FAILED rather than ending the whole run.
step() {
    local name=$1 script=$2 vars=() args=()
    shift 2
    while [ $# -gt 0 ] && [ "$1" != -- ]; do vars+=("$1"); shift; done
    [ $# -gt 0 ] && shift && args=("$@")
    say "$name ($(date -u +%H:%M:%S))"
    if ! env "${vars[@]}" OUT_DIR="$out" bash "$BENCH_DIR/$script" "${args[@]}" >"$out/$name.txt" 2>"$out/$name.err"; then
        say "$name failed; last lines:"
        tail -n 5 "$out/$name.err" >&2
    fi
    sed 's/^/  /' "$out/$name.txt" >&2
}
step dag dag.sh RUNS=$dag_runs
step gitlab_dag gitlab_dag.sh RUNS=$dag_runs GITLAB_RUNS=$gitlab_runs LAYERED_SHAPES="$shapes"
step readiness readiness.sh N=$ready_n
step container_readiness container_readiness.sh N=$cready_n
step compose_readiness compose_readiness.sh N=$compose_n
step container_chain container_chain.sh RUNS=$chain_runs GITLAB_RUNS=$gitlab_runs
step log_rss log_rss.sh
handoff=
if [ -f "$BENCH_DIR/artifact_handoff.sh" ]; then
    handoff=1
    step artifact_handoff artifact_handoff.sh -- ${quick:+--quick}
fi

# --- the table ------------------------------------------------------------------------------
# med FILE PATTERN: the number after "median" on the first line matching PATTERN (ERE).
med() { grep -E -m1 "$2" "$1" 2>/dev/null | sed -n 's/.*median[ =]*\([0-9.]*\).*/\1/p'; }
# kv FILE PATTERN KEY: the number after KEY= on the first line matching PATTERN.
kv() { grep -E -m1 "$2" "$1" 2>/dev/null | sed -n "s/.*[ (]$3=\([0-9.]*\).*/\1/p"; }
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3gx", a / b }' || echo n/a; }
# verdict VALUE OP LIMIT (value may end in x)
verdict() {
    [ -n "$1" ] && [ "$1" != n/a ] || { echo "n/a"; return; }
    awk -v v="${1%x}" -v l="$3" -v op="$2" 'BEGIN { ok = (op == "<") ? v < l : v <= l; print ok ? "met" : "**missed**" }'
}
or_failed() { [ -n "$1" ] && echo "$1 $2" || echo FAILED; }
o=$out
# Missing figures print as FAILED or n/a; a missing file must not end the table.
set +e
{
echo "# pipekit-ci and its peers, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "\`bench/peers.sh${quick:+ --quick}\`; $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), kernel $(uname -r);"
echo "$measured; load before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - started )) s."
echo
echo '| workload | pipekit-ci | peers | ratio | target | verdict |'
echo '|---|---|---|---|---|---|'
pk=$(med $o/dag.txt 'dag pipekit-run +median'); nj=$(med $o/dag.txt 'dag ninja-j2'); mk=$(med $o/dag.txt 'dag make-j2')
r=$(ratio "$pk" "$nj")
echo "| 500-job DAG, 10 layers x 50, run folder deleted before each run, median of $dag_runs | $(or_failed "$pk" ms) | ninja -j2 $nj ms, make -j2 $mk ms; gitlab-ci-local cannot run this shape (below) | $r ninja | <= 2x ninja | $(verdict "$r" '<=' 2) |"
pkk=$(med $o/dag.txt 'dag pipekit-run-keep'); rk=$(ratio "$pkk" "$nj")
echo "| same, earlier run folders kept (measured first: see dag.sh) | $(or_failed "$pkk" ms) | ninja -j2 $nj ms | $rk ninja | <= 1.3x ninja | $(verdict "$rk" '<=' 1.3) |"
fpk=$(med $o/gitlab_dag.txt 'fan-500 pipekit-run'); fnj=$(med $o/gitlab_dag.txt 'fan-500 ninja-j2')
fmk=$(med $o/gitlab_dag.txt 'fan-500 make-j2'); fgl=$(med $o/gitlab_dag.txt 'fan-500 gitlab-ci-local')
r=$(ratio "$fpk" "$fnj")
echo "| 500-job fan-out/fan-in, median of $dag_runs ($gitlab_runs for gitlab-ci-local) | $(or_failed "$fpk" ms) | ninja -j2 $fnj ms, make -j2 $fmk ms, gitlab-ci-local $fgl ms | $r ninja, $(ratio "$fpk" "$fgl") gitlab-ci-local | <= 1.5x ninja | $(verdict "$r" '<=' 1.5) |"
largest=$(grep -E 'layered-.* median' $o/gitlab_dag.txt | tail -1 | awk '{ print $2, $5, "ms" }')
stop=$(grep -E 'layered-.*(TIMEOUT|FAILED)' $o/gitlab_dag.txt | sed 's/^gitlab_dag //; s/gitlab-ci-local //')
echo "| layered DAG (stages) in gitlab-ci-local: largest it finished | - | ${largest:-none} ${stop:+; $stop} | - | - | its walk visits every path |"
rp=$o/readiness.txt
r50=$(kv $rp pipekit-ci median); r90=$(kv $rp pipekit-ci p90); r99=$(kv $rp pipekit-ci p99)
cp_=$o/compose_readiness.txt
c50=$(kv $cp_ healthcheck median); c90=$(kv $cp_ healthcheck p90); c99=$(kv $cp_ healthcheck p99)
cint=$(sed -n 's/.*interval \([0-9a-z]*\).*/\1/p' $cp_ | head -1)
echo "| readiness host, line -> dependent runs, p50 / p90 / p99 of $ready_n (ms) | $(or_failed "$r50" "/ $r90 / $r99") | bash read+spawn $(kv $rp hand-written median) / $(kv $rp hand-written p90) / $(kv $rp hand-written p99); Compose healthcheck ($cint) $c50 / $c90 / $c99 | $(ratio "$r50" "$c50") Compose | p50 < 5 ms | $(verdict "$r50" '<' 5) |"
crp=$o/container_readiness.txt
x50=$(kv $crp pipekit-ci median); x90=$(kv $crp pipekit-ci p90); x99=$(kv $crp pipekit-ci p99)
echo "| readiness container -> container, p50 / p90 / p99 of $cready_n (ms) | $(or_failed "$x50" "/ $x90 / $x99") | docker logs -f + docker run $(kv $crp 'docker logs' median) / $(kv $crp 'docker logs' p90) / $(kv $crp 'docker logs' p99); Compose healthcheck $c50 / $c90 / $c99 | $(ratio "$x50" "$c50") Compose | below Compose | $(verdict "$(ratio "$x50" "$c50")" '<' 1) |"
cc=$o/container_chain.txt
ccp=$(med $cc 'container_chain pipekit +median'); ccr=$(med $cc 'container_chain raw +median')
ccc=$(med $cc 'container_chain compose +median'); ccg=$(med $cc 'container_chain gitlab-ci-local +median')
[ -n "$ccg" ] || ccg=$(grep -m1 'container_chain gitlab-ci-local' $cc | sed 's/container_chain gitlab-ci-local //')
r=$(ratio "$ccp" "$ccr")
echo "| 3 containers in a chain, median of $chain_runs ($gitlab_runs for gitlab-ci-local) | $(or_failed "$ccp" ms) | 3x docker run --rm $ccr ms, docker-compose $ccc ms, gitlab-ci-local ${ccg:-n/a} ms | $r raw, $(ratio "$ccp" "$ccc") compose | <= 1.15x raw | $(verdict "$r" '<=' 1.15) |"
lr=$o/log_rss.txt
rss=$(awk '/log_rss pipekit-ci +peak/ { print $5; exit }' $lr); wall=$(awk '/log_rss pipekit-ci +peak/ { print $8; exit }' $lr)
trss=$(awk '/log_rss shell-tee/ { print $5; exit }' $lr); twall=$(awk '/log_rss shell-tee/ { print $8; exit }' $lr)
echo "| 1 GiB of log from one job: peak RSS (wall) | $(or_failed "$rss" "MB ($wall s)") | sh pipe into tee $trss MB ($twall s) | - | < 64 MB | $(verdict "$rss" '<' 64) |"
if [ -n "$handoff" ]; then
    echo
    echo "Artifact handoff (\`bench/artifact_handoff.sh\`, its own table):"
    echo
    cat $o/artifact_handoff.txt
fi
} | tee "$report"
say "table written to $report"
