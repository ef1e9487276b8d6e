# shellcheck shell=bash
# Sourced by the service benchmarks (serve_push.sh, serve_history.sh): installs what they
# need, starts `pipekit-ci serve` and a Buildbot master + local worker on loopback, and stops
# every process it started when the script exits, however it exits.
#
# Buildbot comes from PyPI (buildbot, buildbot-worker, buildbot-www $BUILDBOT_VERSION) into a
# venv outside the repository: $BUILDBOT_VENV, by default
# ${XDG_CACHE_HOME:-$HOME/.cache}/pipekit-bench/buildbot.
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BUILDBOT_VERSION=${BUILDBOT_VERSION:-4.3.0}
BUILDBOT_VENV=${BUILDBOT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/pipekit-bench/buildbot}
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost

serve_say() { echo "$(basename "$0"): $*" >&2; }

# --- what the scripts need ------------------------------------------------------------------
serve_need() {
    local missing=() p
    for p in git curl python3 openssl; do
        command -v "$p" >/dev/null || missing+=("$p")
    done
    # Debian's python3 has no venv module without python3-venv.
    python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
    [ ${#missing[@]} -gt 0 ] || return 0
    [ "$(id -u)" = 0 ] || { echo "$(basename "$0"): missing ${missing[*]}; run as root or install them" >&2; exit 1; }
    serve_say "apt-get install ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

buildbot_install() {
    # Read whole before matching: with pipefail, `grep -q` quitting early can fail the pipe.
    local version
    version=$("$BUILDBOT_VENV/bin/buildbot" --version 2>/dev/null || true)
    if grep -q "^Buildbot version: $BUILDBOT_VERSION\$" <<<"$version" &&
        [ -x "$BUILDBOT_VENV/bin/buildbot-worker" ]; then
        return
    fi
    serve_say "pip install buildbot $BUILDBOT_VERSION into $BUILDBOT_VENV"
    rm -rf "$BUILDBOT_VENV"
    mkdir -p "$(dirname "$BUILDBOT_VENV")"
    python3 -m venv "$BUILDBOT_VENV" >&2
    "$BUILDBOT_VENV/bin/pip" install -q "buildbot==$BUILDBOT_VERSION" \
        "buildbot-worker==$BUILDBOT_VERSION" "buildbot-www==$BUILDBOT_VERSION" >&2
}

# --- processes, and stopping them -----------------------------------------------------------
SERVE_PIDS=()
SERVE_WORK=

# stop_pid PID: SIGTERM, up to 20 s for it to end, then SIGKILL.
stop_pid() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

serve_cleanup() {
    local i
    # Newest first: a worker before its master.
    for ((i = ${#SERVE_PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${SERVE_PIDS[i]}"
    done
    SERVE_PIDS=()
    [ -n "$SERVE_WORK" ] && rm -rf "$SERVE_WORK"
}

# serve_workdir: a fresh folder in $SERVE_WORK, removed (with every process) at exit.
serve_workdir() {
    SERVE_WORK=$(mktemp -d)
    trap serve_cleanup EXIT
    trap 'exit 130' INT TERM
}

# wait_for SECONDS CMD...: runs CMD every 20 ms until it succeeds; fails after SECONDS.
wait_for() {
    local limit=$1 i
    shift
    for i in $(seq $((limit * 50))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.02
    done
    return 1
}

# answer_has URL TEXT...: the JSON at URL, without its spaces and newlines, holds every
# TEXT.
answer_has() {
    local url=$1 body text
    shift
    body=$(curl -sf "$url") || return 1
    body=${body//[$' \n']/}
    for text in "$@"; do
        [[ $body == *"$text"* ]] || return 1
    done
}

# vmrss_mb PID: the process's resident set now, in MB.
vmrss_mb() { awk '/^VmRSS:/ { printf "%.1f\n", $2 / 1024 }' "/proc/$1/status"; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# --- pushes ---------------------------------------------------------------------------------
# lines_at_least FILE COUNT
lines_at_least() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# time_pushes LABEL WORK STAMPS IDLE: the WARMUP + N pushes from the clone WORK. Writes the
# push -> stamp latencies to LABEL.ms and push -> `git push` returned to LABEL.push.ms.
# STAMPS empty: no first job, only the push is timed. IDLE: a command that succeeds once the
# tool has nothing queued or running.
time_pushes() {
    local label=$1 work=$2 stamps=$3 idle=$4 i t0 t1 stamp
    : >"$label.ms"
    : >"$label.push.ms"
    for i in $(seq $((WARMUP + N))); do
        echo "$i" >"$work/change.txt"
        git -C "$work" add -A
        git -C "$work" commit -q -m "Change $i"
        t0=$(date +%s%N)
        git -C "$work" push -q origin main 2>>"$label.push.log"
        t1=$(date +%s%N)
        if [ -n "$stamps" ]; then
            if ! wait_for 60 lines_at_least "$stamps" "$i"; then
                echo "$(basename "$0") $label: push $i: no first job within 60 s" >&2
                tail -n 5 "$label.push.log" >&2
                return 1
            fi
            stamp=$(sed -n "${i}p" "$stamps")
            wait_for 120 "$idle" || { echo "$(basename "$0") $label: push $i: still busy after 120 s" >&2; return 1; }
        fi
        if [ "$i" -gt "$WARMUP" ]; then
            [ -n "$stamps" ] && awk -v d=$((stamp - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }' >>"$label.ms"
            awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }' >>"$label.push.ms"
        fi
    done
}

# --- pipekit-ci serve -----------------------------------------------------------------------
# pipekit_start REPOSITORY DATA [ARG...]: `pipekit-ci serve` of REPOSITORY (a bare repository
# or a work tree; with `--config FILE` among ARG, the folder it starts in), hooks only
# (--poll 0), on a free loopback port. Sets PIPEKIT_URL, PIPEKIT_PID.
pipekit_start() {
    local repo=$1 data=$2 log=$SERVE_WORK/pipekit-serve.$RANDOM.log
    shift 2
    (cd "$repo" && exec "$PIPEKIT_CI" serve --data "$data" --listen 127.0.0.1:0 --poll 0 "$@") 2>"$log" &
    PIPEKIT_PID=$!
    SERVE_PIDS+=("$PIPEKIT_PID")
    if ! wait_for 30 grep -q ' on http://' "$log"; then
        echo "pipekit-ci serve did not start:" >&2
        cat "$log" >&2
        return 1
    fi
    PIPEKIT_URL=$(sed -n 's/.* on \(http:[^,]*\),.*/\1/p' "$log" | head -1)
    wait_for 10 curl -sf "$PIPEKIT_URL/healthz"
}

# pipekit_idle: no run of the server is queued or running.
pipekit_idle() {
    answer_has "$PIPEKIT_URL/api/v1/queue" '"queue":[]' '"running":0'
}

pipekit_stop() {
    stop_pid "$PIPEKIT_PID"
}

# --- Buildbot -------------------------------------------------------------------------------
# buildbot_create DIR STEP [CHECKOUT]: a master in DIR/master (SQLite, the web server with
# the base change hook, a PBChangeSource for `buildbot sendchange`, no usage reports) with
# one builder `first` whose first step is the shell command STEP, started by any change on
# branch main at once (treeStableTimer None), and a worker in DIR/worker. CHECKOUT, a
# repository URL: a Git step (incremental) comes before STEP. Sets BB_DIR, BB_URL, BB_PB.
buildbot_create() {
    BB_DIR=$1
    local step=$2 checkout=${3:-}
    BB_PB=$(free_port)
    local www
    www=$(free_port)
    BB_URL=http://127.0.0.1:$www
    mkdir -p "$BB_DIR"
    "$BUILDBOT_VENV/bin/buildbot" create-master -q "$BB_DIR/master" >&2
    python3 - "$BB_DIR/master/master.cfg" "$BB_PB" "$www" "$step" "$checkout" <<'EOF'
import sys
path, pb, www, step, checkout = sys.argv[1:]
git_step = f'factory.addStep(steps.Git(repourl={checkout!r}, mode="incremental"))\n' if checkout else ""
with open(path, "w") as cfg:
    cfg.write(f'''# written by pipekit-ci's bench/serve_common.sh
from buildbot.plugins import changes, schedulers, steps, util, worker

c = BuildmasterConfig = {{}}
c["title"] = "bench"
c["buildbotURL"] = "http://127.0.0.1:{www}/"
c["buildbotNetUsageData"] = None
c["db"] = {{"db_url": "sqlite:///state.sqlite"}}
c["protocols"] = {{"pb": {{"port": "tcp:{pb}:interface=127.0.0.1"}}}}
c["workers"] = [worker.Worker("local", "bench")]
c["change_source"] = [changes.PBChangeSource()]
c["collapseRequests"] = False
c["schedulers"] = [
    schedulers.SingleBranchScheduler(
        name="push",
        change_filter=util.ChangeFilter(branch="main"),
        treeStableTimer=None,
        builderNames=["first"],
    )
]
factory = util.BuildFactory()
{git_step}\
factory.addStep(steps.ShellCommand(name="first", command=["sh", "-c", {step!r}]))
c["builders"] = [util.BuilderConfig(name="first", workernames=["local"], factory=factory)]
c["www"] = {{
    "port": "tcp:{www}:interface=127.0.0.1",
    "change_hook_dialects": {{"base": True}},
    "plugins": {{}},
}}
''')
EOF
    "$BUILDBOT_VENV/bin/buildbot" checkconfig "$BB_DIR/master" >/dev/null
    "$BUILDBOT_VENV/bin/buildbot-worker" create-worker -q "$BB_DIR/worker" "127.0.0.1:$BB_PB" local bench >&2
}

# buildbot_start: the master, then the worker, both in the foreground of a background job;
# returns once the worker is connected. Sets BB_MASTER_PID, BB_WORKER_PID.
buildbot_start() {
    "$BUILDBOT_VENV/bin/buildbot" start --nodaemon "$BB_DIR/master" >"$BB_DIR/master.out" 2>&1 &
    BB_MASTER_PID=$!
    SERVE_PIDS+=("$BB_MASTER_PID")
    if ! wait_for 60 curl -sf "$BB_URL/api/v2/builders"; then
        echo "the Buildbot master did not start:" >&2
        tail -n 30 "$BB_DIR/master/twistd.log" "$BB_DIR/master.out" >&2
        return 1
    fi
    "$BUILDBOT_VENV/bin/buildbot-worker" start --nodaemon "$BB_DIR/worker" >"$BB_DIR/worker.out" 2>&1 &
    BB_WORKER_PID=$!
    SERVE_PIDS+=("$BB_WORKER_PID")
    if ! wait_for 60 buildbot_worker_connected; then
        echo "the Buildbot worker did not connect:" >&2
        tail -n 30 "$BB_DIR/worker/twistd.log" "$BB_DIR/worker.out" >&2
        return 1
    fi
}

buildbot_worker_connected() {
    answer_has "$BB_URL/api/v2/workers" '"connected_to":[{'
}

# buildbot_idle: no build running and no build request waiting.
buildbot_idle() {
    answer_has "$BB_URL/api/v2/builds?complete=false" '"builds":[]' &&
        answer_has "$BB_URL/api/v2/buildrequests?complete=false" '"buildrequests":[]'
}

# buildbot_stop: the worker, then the master.
buildbot_stop() {
    stop_pid "$BB_WORKER_PID"
    stop_pid "$BB_MASTER_PID"
}

# buildbot_hook BARE [sendchange]: a post-receive hook in the bare repository BARE that tells
# the master of each pushed branch through its web change hook (base dialect) with curl, or
# with `buildbot sendchange` to its PBChangeSource: the two ways Buildbot documents for a
# repository it does not poll.
buildbot_hook() {
    local bare=$1
    if [ "${2:-}" = sendchange ]; then
        cat >"$bare/hooks/post-receive" <<EOF
#!/bin/sh
# Tells the Buildbot master of each pushed branch (buildbot sendchange, PBChangeSource).
while read -r old new ref; do
    case \$ref in refs/heads/*) ;; *) continue ;; esac
    [ "\$new" = 0000000000000000000000000000000000000000 ] && continue
    '$BUILDBOT_VENV/bin/buildbot' sendchange --master '127.0.0.1:$BB_PB' --auth change:changepw \\
        --vc git --repository '$bare' --branch "\${ref#refs/heads/}" --revision "\$new" \\
        --who "\$(git log -1 --format='%an <%ae>' "\$new")" \\
        --comments "\$(git log -1 --format=%s "\$new")" >/dev/null ||
        echo "post-receive: the Buildbot master refused the change" >&2
done
EOF
        chmod +x "$bare/hooks/post-receive"
        return
    fi
    cat >"$bare/hooks/post-receive" <<EOF
#!/bin/sh
# Tells the Buildbot master of each pushed branch (change_hook, base dialect).
while read -r old new ref; do
    case \$ref in refs/heads/*) ;; *) continue ;; esac
    [ "\$new" = 0000000000000000000000000000000000000000 ] && continue
    curl -sf -o /dev/null -X POST '$BB_URL/change_hook/base' \\
        --data-urlencode "revision=\$new" \\
        --data-urlencode "branch=\${ref#refs/heads/}" \\
        --data-urlencode 'repository=$bare' \\
        --data-urlencode "author=\$(git log -1 --format='%an <%ae>' "\$new")" \\
        --data-urlencode "comments=\$(git log -1 --format=%s "\$new")" ||
        echo "post-receive: the Buildbot master refused the change" >&2
done
EOF
    chmod +x "$bare/hooks/post-receive"
}
