#!/usr/bin/env bash
# The service's measurements (issue 11), `pipekit-ci serve` beside Buildbot in one
# invocation: runs each script of SERVE_BENCHES (default: serve_push.sh serve_history.sh
# serve_sse.sh),
# then writes a markdown table to stdout and to bench/results/serve-<UTC time>.md, with the
# scripts' raw lines under it.
#
#   bench/serve.sh           N=50 pushes and requests, 10,000 runs in the history (3-4 min)
#   bench/serve.sh --quick   N=5, 1,000 runs, for development
#
# Installs what is missing (apt: git curl python3-venv; PyPI: buildbot, buildbot-worker,
# buildbot-www into ${XDG_CACHE_HOME:-$HOME/.cache}/pipekit-bench/buildbot) and builds the
# release binary and serve/examples/fill_history.rs when missing. Every server, master and
# worker it starts is stopped when it ends. Figures compare only within one run.
set -euo pipefail

quick=
for arg in "$@"; do
    case $arg in
        --quick) quick=1 ;;
        -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "serve.sh: unknown argument '$arg' (expected --quick)" >&2; exit 2 ;;
    esac
done
. "$(dirname "$0")/common.sh"

if [ -n "$quick" ]; then
    export N=${N:-5} COUNT=${COUNT:-1000}
else
    export N=${N:-50} COUNT=${COUNT:-10000}
fi
SERVE_BENCHES=${SERVE_BENCHES:-serve_push.sh serve_history.sh serve_sse.sh}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$BENCH_DIR/results"
report=$BENCH_DIR/results/serve-$(date -u +%Y-%m-%dT%H%MZ).md
checkout=$(cd "$REPO_ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')
started=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

for script in $SERVE_BENCHES; do
    name=${script%.sh}
    echo "serve: $name ($(date -u +%H:%M:%S))" >&2
    if ! bash "$BENCH_DIR/$script" >"$out/$name.txt" 2>"$out/$name.err"; then
        echo "serve: $name failed; last lines:" >&2
        tail -n 5 "$out/$name.err" >&2
    fi
    sed 's/^/  /' "$out/$name.txt" >&2
done

# kv PATTERN KEY: the number after KEY= on the first raw line matching PATTERN (ERE).
kv() { cat "$out"/*.txt | grep -E -m1 "$1" | sed -n "s/.*[ (]$2=\([0-9.]*\).*/\1/p"; }
pair() { [ -n "$1" ] && echo "$1 / $2" || echo FAILED; }
# slow_note PATTERN: " (K of N over 1 s)" when the line's slow= is not 0.
slow_note() { local k; k=$(kv "$1" slow); [ -n "$k" ] && [ "$k" != 0 ] && echo " ($k of $N over 1 s)"; }
# verdict VALUE LIMIT: met when VALUE < LIMIT.
verdict() {
    [ -n "$1" ] || { echo n/a; return; }
    awk -v v="$1" -v l="$2" 'BEGIN { print (v < l) ? "met" : "**missed**" }'
}
bb_version=$(cat "$out"/*.txt | sed -n 's/.*version: Buildbot version: \([0-9.]*\).*/\1/p' | head -1)

set +e
{
echo "# pipekit-ci serve beside Buildbot, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "\`bench/serve.sh${quick:+ --quick}\`; $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), kernel $(uname -r);"
echo "pipekit-ci $checkout ($PIPEKIT_CI), Buildbot ${bb_version:-?} (master + one local worker, SQLite);"
echo "load before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg); $(( $(date +%s) - started )) s."
echo
echo "| measurement | pipekit-ci | Buildbot | target (pipekit-ci) | verdict |"
echo "|---|---|---|---|---|"
p50=$(kv 'serve_push pipekit-ci +first job' median); p99=$(kv 'serve_push pipekit-ci +first job' p99)
echo "| push -> first job running, post-receive hook, p50 / p99 of $N (ms) | $(pair "$p50" "$p99") | $(pair "$(kv 'serve_push buildbot +first job' median)" "$(kv 'serve_push buildbot +first job' p99)") | p50 < 150 ms | $(verdict "$p50" 150) |"
echo "| same, Buildbot's builder checking the commit out first (Git step, as pipekit-ci's run does) | $(pair "$p50" "$p99") | $(pair "$(kv 'serve_push buildbot-checkout +first job' median)" "$(kv 'serve_push buildbot-checkout +first job' p99)") | - | - |"
w50=$(kv 'serve_push pipekit-webhook +first job' median)
echo "| push -> first job running, forge webhook (pipekit-ci: a signed GitHub push payload POSTed by curl from the hook; Buildbot: the first row's base change hook, also an HTTP POST by curl, unsigned), p50 / p99 (ms) | $(pair "$w50" "$(kv 'serve_push pipekit-webhook +first job' p99)") | $(pair "$(kv 'serve_push buildbot +first job' median)" "$(kv 'serve_push buildbot +first job' p99)") | p50 < 150 ms | $(verdict "$w50" 150) |"
sc50=$(kv 'serve_push buildbot-sendchange +first job' median)
[ -n "$sc50" ] && echo "| same, Buildbot's hook calling \`buildbot sendchange\` instead of curl | - | $(pair "$sc50" "$(kv 'serve_push buildbot-sendchange +first job' p99)") | - | - |"
echo "| push -> \`git push\` returns (the hook included), p50 / p99 (ms) | $(pair "$(kv 'serve_push pipekit-ci +push returned' median)" "$(kv 'serve_push pipekit-ci +push returned' p99)") | $(pair "$(kv 'serve_push buildbot +push returned' median)" "$(kv 'serve_push buildbot +push returned' p99)") | - | git push without a hook $(pair "$(kv 'serve_push git-push-alone' median)" "$(kv 'serve_push git-push-alone' p99)") |"
h50=$(kv 'pipekit-ci GET /api/v1/runs +\(' median); h99=$(kv 'pipekit-ci GET /api/v1/runs +\(' p99)
echo "| run list, $COUNT in the history, one page of 50, p50 / p99 of $N (ms) | $(pair "$h50" "$h99")$(slow_note 'pipekit-ci GET /api/v1/runs +\(') | $(pair "$(kv 'buildbot GET .*limit=50&' median)" "$(kv 'buildbot GET .*limit=50&' p99)")$(slow_note 'buildbot GET .*limit=50&') | < 50 ms | $(verdict "$h99" 50) |"
echo "| same, a page of 1,000 (ms) | $(pair "$(kv 'pipekit-ci GET .*limit=1000' median)" "$(kv 'pipekit-ci GET .*limit=1000' p99)")$(slow_note 'pipekit-ci GET .*limit=1000') | $(pair "$(kv 'buildbot GET .*limit=1000' median)" "$(kv 'buildbot GET .*limit=1000' p99)")$(slow_note 'buildbot GET .*limit=1000') | - | - |"
rs=$(kv 'pipekit-ci RSS' start); ra=$(kv 'pipekit-ci RSS' after)
worker=$(cat "$out"/*.txt | sed -n 's/.*RSS .* master; worker \([0-9.]*\) MB.*/\1/p' | head -1)
echo "| server RSS after start, $COUNT in the history (MB) | ${rs:-FAILED} | ${worker:+master }$(kv 'buildbot RSS' start)${worker:+ (worker $worker)} | < 100 MB | $(verdict "$rs" 100) |"
echo "| server RSS after the listings (MB) | ${ra:-FAILED} | ${worker:+master }$(kv 'buildbot RSS' after) | < 100 MB | $(verdict "$ra" 100) |"
l50=$(kv 'serve_sse line-latency' median)
echo "| a printed line -> seen by an SSE client, p50 / p99 of 200 (ms) | $(pair "$l50" "$(kv 'serve_sse line-latency' p99)") | not measured | p50 < 20 ms | $(verdict "$l50" 20) |"
echo "| 50 SSE clients on a job writing 10,000 lines/s for 10 s: server CPU (s), peak RSS (MB) | $(kv 'serve_sse fanout' cpu) s, $(kv 'serve_sse fanout' peak_rss) MB (each client saw $(kv 'serve_sse fanout' min_lines) of 100000 lines) | not measured | - | - |"
big=$(kv 'serve_sse two-1GiB' peak_rss)
echo "| server peak RSS, 2 runs at once each writing 1 GiB of log, each followed (MB) | ${big:-FAILED} | not measured | < 100 MB | $(verdict "$big" 100) |"
echo
echo "Raw lines:"
echo
echo '```'
for script in $SERVE_BENCHES; do cat "$out/${script%.sh}.txt"; done
echo '```'
} | tee "$report"
echo "serve: table written to $report" >&2
