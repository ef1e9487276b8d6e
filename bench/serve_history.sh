#!/usr/bin/env bash
# The run list with a long history, and the server's memory (issue 11): `pipekit-ci serve`
# and a Buildbot master (with its local worker), one after the other in one invocation.
#
# pipekit-ci: serve/examples/fill_history.rs records COUNT (10,000) finished runs through
# the service's own store (queued, started, ended, as real runs are) into the data folder's
# pipekit.db; the server is then started on that folder, serving a bare repository.
# Buildbot: one real build through the change hook, then, with the master stopped, its rows
# (buildsets, buildset_sourcestamps, buildrequests, builds, build_properties) copied with
# sqlite3 until there are COUNT builds; the master and worker are started again.
# Each API is asked WARMUP (2) + N (50) times with curl; the figure is curl's time_total of
# the N; slow= counts the answers over 1 s (curl gives up at 120 s). VmRSS of each server
# (/proc/PID/status) 1 s after it answers, and after the listings. Prints stats lines (ms) and RSS lines (MB), as the other bench scripts do.
set -euo pipefail
. "$(dirname "$0")/serve_common.sh"

COUNT=${COUNT:-10000}
N=${N:-50}
WARMUP=${WARMUP:-2}

serve_need
buildbot_install
# FILL_HISTORY names a built example; by default it is built here (a no-op when up to date).
if [ -z "${FILL_HISTORY:-}" ]; then
    (cd "$REPO_ROOT" && cargo build -q --release -p pipekit-serve --example fill_history) >&2
    FILL_HISTORY=${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/examples/fill_history
fi
serve_workdir
cd "$SERVE_WORK"

# timings LABEL URL: WARMUP + N GETs of URL; the N times (ms) into LABEL.ms, the last body
# into LABEL.body. Any answer but 200 fails.
timings() {
    local label=$1 url=$2 i answer
    : >"$label.ms"
    for i in $(seq $((WARMUP + N))); do
        answer=$(curl -s --max-time 120 -o "$label.body" -w '%{http_code} %{time_total}' "$url") || true
        if [ "${answer% *}" != 200 ]; then
            echo "serve_history $label: $url answered ${answer% *}" >&2
            head -c 500 "$label.body" >&2
            return 1
        fi
        [ "$i" -gt "$WARMUP" ] && awk -v t="${answer#* }" 'BEGIN { printf "%.3f\n", t * 1000 }' >>"$label.ms"
    done
    return 0
}

# slow LABEL: how many of LABEL's answers took over a second.
slow() { awk '$1 > 1000' "$1.ms" | wc -l; }

# count_of KEY FILE: how many times "KEY": occurs in the JSON FILE.
count_of() { grep -o "\"$1\":" "$2" | wc -l; }

# --- pipekit-ci serve -----------------------------------------------------------------------
git init -q --bare -b main app.git
"$FILL_HISTORY" "$SERVE_WORK/pipekit-data" app "$COUNT" >pipekit.fill
pipekit_start "$SERVE_WORK/app.git" "$SERVE_WORK/pipekit-data"
sleep 1
pk_rss_start=$(vmrss_mb "$PIPEKIT_PID")
timings pipekit-default "$PIPEKIT_URL/api/v1/runs"
pk_listed=$(count_of id pipekit-default.body)
timings pipekit-1000 "$PIPEKIT_URL/api/v1/runs?limit=1000"
pk_listed_1000=$(count_of id pipekit-1000.body)
pk_rss_after=$(vmrss_mb "$PIPEKIT_PID")
echo "serve_history pipekit-ci fill: $(cat pipekit.fill)"
echo "serve_history pipekit-ci GET /api/v1/runs            (ms) $(stats < pipekit-default.ms)  slow=$(slow pipekit-default) runs=$pk_listed bytes=$(stat -c %s pipekit-default.body)"
echo "serve_history pipekit-ci GET /api/v1/runs?limit=1000 (ms) $(stats < pipekit-1000.ms)  slow=$(slow pipekit-1000) runs=$pk_listed_1000 bytes=$(stat -c %s pipekit-1000.body)"
echo "serve_history pipekit-ci RSS start=$pk_rss_start after=$pk_rss_after (MB)"
pipekit_stop

# --- Buildbot -------------------------------------------------------------------------------
buildbot_create "$SERVE_WORK/buildbot" true
buildbot_start
curl -sf -o /dev/null -X POST "$BB_URL/change_hook/base" --data-urlencode revision="$(printf '%040d' 1)" \
    --data-urlencode branch=main --data-urlencode 'author=bench <bench@localhost>' \
    --data-urlencode comments='Change number 0' --data-urlencode repository="$SERVE_WORK/app.git"
buildbot_one_build() {
    answer_has "$BB_URL/api/v2/builds?complete=true" '"buildid":' && buildbot_idle
}
wait_for 60 buildbot_one_build || { echo "serve_history buildbot: the first build did not finish" >&2; exit 1; }
buildbot_stop
started=$(date +%s%N)
python3 - "$BB_DIR/master/state.sqlite" "$COUNT" <<'EOF'
# Copies the one real build's rows until there are COUNT builds, each a minute older than
# the next, numbered 1..COUNT as the builder would have.
import sqlite3, sys

db, count = sys.argv[1], int(sys.argv[2])
conn = sqlite3.connect(db)

def rows(table, where, *args):
    cursor = conn.execute(f"SELECT * FROM {table} WHERE {where}", args)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor]

def insert(table, values):
    values = {k: v for k, v in values.items() if k != "id"}
    names = ", ".join(values)
    marks = ", ".join("?" * len(values))
    return conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(values.values())).lastrowid

def older(value, seconds):
    return None if value is None else value - seconds

[build] = rows("builds", "id = (SELECT MIN(id) FROM builds)")
[request] = rows("buildrequests", "id = ?", build["buildrequestid"])
[buildset] = rows("buildsets", "id = ?", request["buildsetid"])
links = rows("buildset_sourcestamps", "buildsetid = ?", buildset["id"])
properties = rows("build_properties", "buildid = ?", build["id"])
with conn:
    for number in range(2, count + 1):
        shift = 60 * (count - number)
        buildset_id = insert("buildsets", dict(buildset,
            submitted_at=older(buildset["submitted_at"], shift),
            complete_at=older(buildset["complete_at"], shift)))
        for link in links:
            insert("buildset_sourcestamps", dict(link, buildsetid=buildset_id))
        request_id = insert("buildrequests", dict(request, buildsetid=buildset_id,
            submitted_at=older(request["submitted_at"], shift),
            complete_at=older(request["complete_at"], shift)))
        build_id = insert("builds", dict(build, number=number, buildrequestid=request_id,
            started_at=older(build["started_at"], shift),
            complete_at=older(build["complete_at"], shift)))
        for prop in properties:
            conn.execute("INSERT INTO build_properties (buildid, name, value, source) VALUES (?, ?, ?, ?)",
                         (build_id, prop["name"], prop["value"], prop["source"]))
print(conn.execute("SELECT COUNT(*) FROM builds").fetchone()[0], "builds", file=sys.stderr)
EOF
bb_filled_in=$(awk -v d=$(($(date +%s%N) - started)) 'BEGIN { printf "%.1f", d / 1e9 }')
buildbot_start
sleep 1
bb_rss_start=$(vmrss_mb "$BB_MASTER_PID")
bb_worker_rss=$(vmrss_mb "$BB_WORKER_PID")
timings buildbot-50 "$BB_URL/api/v2/builds?limit=50&order=-buildid"
bb_listed=$(count_of buildid buildbot-50.body)
timings buildbot-1000 "$BB_URL/api/v2/builds?limit=1000&order=-buildid"
bb_listed_1000=$(count_of buildid buildbot-1000.body)
bb_rss_after=$(vmrss_mb "$BB_MASTER_PID")
bb_total=$(curl -sf "$BB_URL/api/v2/builds?limit=1&order=-buildid" | tr -d ' \n' | sed -n 's/.*"number":\([0-9]*\).*/\1/p')
echo "serve_history buildbot fill: $COUNT builds (newest number $bb_total) copied from one real build in $bb_filled_in s"
echo "serve_history buildbot GET /api/v2/builds?limit=50&order=-buildid   (ms) $(stats < buildbot-50.ms)  slow=$(slow buildbot-50) builds=$bb_listed bytes=$(stat -c %s buildbot-50.body)"
echo "serve_history buildbot GET /api/v2/builds?limit=1000&order=-buildid (ms) $(stats < buildbot-1000.ms)  slow=$(slow buildbot-1000) builds=$bb_listed_1000 bytes=$(stat -c %s buildbot-1000.body)"
echo "serve_history buildbot RSS start=$bb_rss_start after=$bb_rss_after (MB) master; worker $bb_worker_rss MB"
echo "serve_history buildbot version: $("$BUILDBOT_VENV/bin/buildbot" --version | head -1)"
buildbot_stop
