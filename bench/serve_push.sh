#!/usr/bin/env bash
# Push -> first job running, through the post-receive hook (issue 11), for `pipekit-ci serve`
# and a Buildbot master with a local worker, one after the other in one invocation.
#
# Each tool gets a bare repository of its own with its post-receive hook: pipekit-ci's from
# `pipekit-ci hook install --hook post-receive --server URL`, Buildbot's a shell script that
# POSTs the pushed branch to the master's change hook (base dialect) with curl. A clone
# commits one small change and pushes it, WARMUP (2) + N (50) times; the first job (pipekit:
# the only job of pipekit.yml; Buildbot: the builder's first step, `treeStableTimer=None`)
# appends `date +%s%N` to a file. The figure is that stamp minus `date +%s%N` taken just
# before `git push`. The next push waits until the tool is idle again (nothing queued or
# running). Baseline: the same push into a bare repository without a hook, to when `git push`
# returns. Buildbot runs twice more, each time with a fresh master: with a Git checkout step
# before the stamp (the work pipekit-ci's run does before its first job), and with the hook
# calling `buildbot sendchange` instead of curl (BUILDBOT_SENDCHANGE=0 leaves that one out).
# Prints one stats line per tool (ms), as the other bench scripts do.
set -euo pipefail
. "$(dirname "$0")/serve_common.sh"

N=${N:-50}
WARMUP=${WARMUP:-2}

serve_need
buildbot_install
serve_workdir
cd "$SERVE_WORK"

# clone BARE WORK: a work clone of the bare repository, pushing to it.
clone() { git clone -q "$1" "$2" 2>/dev/null; }

# --- baseline: git push alone ---------------------------------------------------------------
git init -q --bare -b main plain.git
clone plain.git plain-work
time_pushes git-push plain-work '' true
echo "serve_push git-push-alone    push returned (ms) $(stats < git-push.push.ms)"

# --- pipekit-ci serve -----------------------------------------------------------------------
git init -q --bare -b main app.git
pipekit_start "$SERVE_WORK/app.git" "$SERVE_WORK/pipekit-data"
(cd app.git && "$PIPEKIT_CI" hook install --hook post-receive --server "$PIPEKIT_URL") >&2
clone app.git pk-work
cat >pk-work/pipekit.yml <<EOF
version: "1"
name: push
services:
  first:
    command: 'date +%s%N >> $SERVE_WORK/pipekit.stamps'
EOF
time_pushes pipekit pk-work "$SERVE_WORK/pipekit.stamps" pipekit_idle
echo "serve_push pipekit-ci      first job (ms) $(stats < pipekit.ms)"
echo "serve_push pipekit-ci    push returned (ms) $(stats < pipekit.push.ms)"
passed=$(curl -sf "$PIPEKIT_URL/api/v1/runs?status=passed&limit=1000" | grep -o '"id":' | wc -l)
echo "serve_push pipekit-ci runs passed: $passed of $((WARMUP + N))"
pipekit_stop

# --- pipekit-ci serve, forge webhook ----------------------------------------------------------
# What a forge does after a push, done by the bare repository's post-receive hook: a GitHub
# push payload signed with the repository's webhook secret (openssl), POSTed with curl to
# /hooks/app. The server reads the pushed commit from the repository it serves.
git init -q --bare -b main forge.git
cat >forge.yml <<EOF
repositories:
  app:
    url: $SERVE_WORK/forge.git
    poll: 0
    webhook_secret: {environment: BENCH_WEBHOOK_SECRET}
EOF
export BENCH_WEBHOOK_SECRET=bench-secret
pipekit_start "$SERVE_WORK" "$SERVE_WORK/pipekit-forge-data" --config "$SERVE_WORK/forge.yml"
cat >forge.git/hooks/post-receive <<EOF
#!/bin/sh
# A forge's push webhook, sent from here: GitHub's headers and payload, HMAC-SHA256 signed.
while read -r old new ref; do
    body=\$(printf '{"ref":"%s","before":"%s","after":"%s","repository":{"full_name":"bench/app"},"head_commit":{"id":"%s"}}' "\$ref" "\$old" "\$new" "\$new")
    signature=\$(printf '%s' "\$body" | openssl dgst -sha256 -hmac '$BENCH_WEBHOOK_SECRET' -r | cut -d' ' -f1)
    curl -sf -o /dev/null -X POST '$PIPEKIT_URL/hooks/app' -H 'content-type: application/json' \\
        -H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: \$new" \\
        -H "X-Hub-Signature-256: sha256=\$signature" --data-binary "\$body" ||
        echo "post-receive: the webhook was refused" >&2
done
EOF
chmod +x forge.git/hooks/post-receive
clone forge.git forge-work
sed "s|pipekit.stamps|pipekit-webhook.stamps|" pk-work/pipekit.yml >forge-work/pipekit.yml
time_pushes pipekit-webhook forge-work "$SERVE_WORK/pipekit-webhook.stamps" pipekit_idle
echo "serve_push pipekit-webhook first job (ms) $(stats < pipekit-webhook.ms)"
webhooks=$(curl -sf "$PIPEKIT_URL/api/v1/runs?status=passed&limit=1000" | grep -o '"trigger":"webhook"' | wc -l)
echo "serve_push pipekit-webhook runs passed: $webhooks of $((WARMUP + N))"
pipekit_stop

# --- Buildbot -------------------------------------------------------------------------------
# buildbot_pushes LABEL HOW [checkout]: a fresh master, worker and bare repository whose
# post-receive hook tells the master by HOW (curl: the change hook; sendchange); checkout:
# the builder checks the pushed commit out (Git step) before the stamp.
buildbot_pushes() {
    local label=$1 how=$2 checkout=
    git init -q --bare -b main "$label.git"
    [ "${3:-}" = checkout ] && checkout=$SERVE_WORK/$label.git
    buildbot_create "$SERVE_WORK/$label" "date +%s%N >> $SERVE_WORK/$label.stamps" "$checkout"
    buildbot_start
    buildbot_hook "$SERVE_WORK/$label.git" "$how"
    clone "$label.git" "$label-work"
    time_pushes "$label" "$label-work" "$SERVE_WORK/$label.stamps" buildbot_idle
    printf 'serve_push %-22s first job (ms) %s\n' "$label" "$(stats < "$label.ms")"
    printf 'serve_push %-18s push returned (ms) %s\n' "$label" "$(stats < "$label.push.ms")"
    built=$(curl -sf "$BB_URL/api/v2/builds?complete=true&results=0" | grep -o '"buildid":' | wc -l)
    echo "serve_push $label builds succeeded: $built of $((WARMUP + N))"
    buildbot_stop
}
# The hook of the table: curl to the change hook; the stamp is the builder's first step.
buildbot_pushes buildbot curl
# The same work as pipekit-ci's run: the commit checked out before the first job.
buildbot_pushes buildbot-checkout curl checkout
# The other documented hook: `buildbot sendchange` (a Python command) to a PBChangeSource.
[ "${BUILDBOT_SENDCHANGE:-1}" = 1 ] && buildbot_pushes buildbot-sendchange sendchange
echo "serve_push buildbot version: $("$BUILDBOT_VENV/bin/buildbot" --version | head -1)"
