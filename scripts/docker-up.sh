#!/usr/bin/env bash
# Makes sure a Docker engine is reachable and the test image exists, for the container tests
# (scripts/test.sh runs it) and the container benchmarks. Safe to run again: it only does
# what is missing.
#
# 1. `docker info` works (DOCKER_HOST is honoured): that engine is used.
# 2. Otherwise, as root on Debian: docker.io is installed if missing, dockerd is started in
#    the background (detached, log in $PIPEKIT_DOCKERD_LOG) and waited for, up to 60 s.
# 3. Otherwise it stops with exit 1 and says how to start Docker, or how to skip the
#    container tests (PIPEKIT_SKIP_DOCKER_TESTS=1).
# Then it builds pipekit-test/busybox:latest locally, FROM scratch, from Debian's static
# busybox (no registry needed), unless an image built from the same recipe is there.
set -euo pipefail

IMAGE=pipekit-test/busybox:latest
DOCKERD_LOG=${PIPEKIT_DOCKERD_LOG:-/var/log/pipekit-dockerd.log}
DOCKERD_PIDFILE=/var/run/docker.pid
WAIT_SECS=60
BUSYBOX=${PIPEKIT_BUSYBOX:-/bin/busybox}

t0=$(date +%s%N)
say() { echo "docker-up: $*"; }
took() { awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.2f s", (b - a) / 1e9 }'; }
fail() {
    echo "docker-up: error: $*" >&2
    echo "docker-up: failed after $(took)" >&2
    exit 1
}
skip_hint="or set PIPEKIT_SKIP_DOCKER_TESTS=1 to skip the container tests"

can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && command -v dpkg-query >/dev/null; }

# apt_install PKG...: installs the packages that are not installed yet, with one
# `apt-get update` per run of this script. apt's output is shown only if it fails.
apt_updated=
apt_install() {
    local missing=() p aptlog
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    aptlog=$(mktemp)
    if [ -z "$apt_updated" ]; then
        say "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$aptlog" 2>&1 \
            || { cat "$aptlog" >&2; rm -f "$aptlog"; fail "apt-get update failed"; }
        apt_updated=1
    fi
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Use-Pty=0 "${missing[@]}" >"$aptlog" 2>&1 \
        || { cat "$aptlog" >&2; rm -f "$aptlog"; fail "apt-get install ${missing[*]} failed"; }
    rm -f "$aptlog"
}

docker_ok() { command -v docker >/dev/null && docker info >/dev/null 2>&1; }
# What `docker info` says is wrong (no engine, permission denied, ...).
docker_error() { docker info 2>&1 >/dev/null | grep -iE 'error|cannot|denied' | head -3 | sed 's/^/docker-up:   /' >&2 || true; }
# A pid file left by a killed dockerd may name a zombie, or a reused pid: check what it is.
dockerd_alive() {
    local pid
    [ -s "$DOCKERD_PIDFILE" ] && pid=$(cat "$DOCKERD_PIDFILE") || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] \
        && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null
}

# Starts dockerd fully detached: its own session (setsid), stdin from /dev/null, output to
# the log and no other descriptor of ours, so it outlives this script and holds no pipe of
# the CI job open.
start_dockerd() {
    # Without systemd nothing mounts the cgroup hierarchies dockerd needs.
    if ! grep -q ' /sys/fs/cgroup' /proc/mounts; then
        apt_install cgroupfs-mount
        say "mounting cgroups (cgroupfs-mount)"
        cgroupfs-mount
    fi
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    say "starting dockerd (log: $DOCKERD_LOG)"
    (
        for fd in /proc/$BASHPID/fd/*; do
            fd=${fd##*/}
            [ "$fd" -gt 2 ] && eval "exec $fd>&-"
        done
        exec setsid -f nohup dockerd --pidfile "$DOCKERD_PIDFILE" </dev/null >>"$DOCKERD_LOG" 2>&1
    )
}

# --- 1. an engine -------------------------------------------------------------------------
if docker_ok; then
    say "using the running engine${DOCKER_HOST:+ at $DOCKER_HOST}"
elif [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != unix:///var/run/docker.sock ] \
    && [ "$DOCKER_HOST" != unix:///run/docker.sock ]; then
    command -v docker >/dev/null || fail "no docker command on PATH"
    docker_error
    fail "the engine at DOCKER_HOST=$DOCKER_HOST is not reachable; start it, unset DOCKER_HOST, $skip_hint"
elif can_install; then
    # Debian's docker.io, unless some Docker (docker-ce, say) is there already.
    { command -v dockerd && command -v docker; } >/dev/null || apt_install docker.io
    systemd=
    if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then systemd=1; fi
    if [ -n "$systemd" ]; then
        say "starting docker.service"
        systemctl start docker.service || true
    elif dockerd_alive; then
        say "dockerd is running (pid $(cat "$DOCKERD_PIDFILE")) but not answering yet"
    else
        start_dockerd
    fi
    started=$(date +%s)
    next_note=0
    until docker_ok; do
        el=$(($(date +%s) - started))
        [ "$el" -lt "$WAIT_SECS" ] || break
        if [ "$el" -ge "$next_note" ]; then
            say "waiting for dockerd to answer \`docker info\` (${el}/${WAIT_SECS} s)"
            next_note=$((next_note + 10))
        fi
        # dockerd writes its pid file at once: none alive after a few seconds means it died.
        # After an unclean stop (the machine's processes killed) the first start can die
        # while it cleans up; a second one comes up.
        if [ "$el" -ge 5 ] && [ -z "$systemd" ] && ! dockerd_alive; then
            if [ "${restarted:-}" = 1 ]; then
                echo "docker-up: dockerd is not running (any more)" >&2
                break
            fi
            restarted=1
            say "dockerd exited while starting; starting it once more"
            start_dockerd
            started=$(date +%s)
        fi
        sleep 0.5
    done
    if ! docker_ok; then
        echo "docker-up: dockerd did not answer after $(($(date +%s) - started)) s; last lines of $DOCKERD_LOG:" >&2
        tail -n 30 "$DOCKERD_LOG" 2>/dev/null | sed 's/^/docker-up:   /' >&2 || true
        fail "no Docker engine (see the log above); fix it, $skip_hint"
    fi
    say "dockerd is up"
else
    command -v docker >/dev/null && docker_error
    fail "no reachable Docker engine, and not root on Debian, so not starting one.
  Start Docker (e.g. \`sudo systemctl start docker\`, or \`sudo dockerd &\`), make sure
  \`docker info\` works for $(id -un) (the docker group), run this script as root, or set
  PIPEKIT_SKIP_DOCKER_TESTS=1 to skip the container tests."
fi

# --- 2. the test image ---------------------------------------------------------------------
is_static() { file -L "$1" 2>/dev/null | grep -q 'statically linked'; }
if [ ! -x "$BUSYBOX" ] || { command -v file >/dev/null && ! is_static "$BUSYBOX"; } \
    || { ! command -v file >/dev/null && [ "$BUSYBOX" = /bin/busybox ] \
        && ! dpkg-query -S /bin/busybox 2>/dev/null | grep -q '^busybox-static:'; }; then
    if [ "$BUSYBOX" = /bin/busybox ] && can_install; then
        apt_install busybox-static # installs /bin/busybox (and replaces the dynamic busybox)
    else
        fail "$BUSYBOX is not a static busybox; install busybox-static or set PIPEKIT_BUSYBOX"
    fi
fi

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp "$BUSYBOX" "$ctx/busybox"
# A scratch image has no /tmp: make one (sticky, world-writable) next to the applet links.
cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && /bin/busybox mkdir -p /tmp && /bin/busybox chmod 1777 /tmp"]
EOF
# The recipe's hash goes into a label, so an image from an older recipe or another busybox
# is rebuilt, and an up-to-date one is kept.
recipe=$(cat "$ctx/Dockerfile" "$ctx/busybox" | sha256sum | cut -c1-16)
echo "LABEL org.pipekit.test-image.recipe=$recipe" >>"$ctx/Dockerfile"

old=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
have=
[ -z "$old" ] || have=$(docker image inspect -f '{{index .Config.Labels "org.pipekit.test-image.recipe"}}' "$IMAGE")
if [ "$have" = "$recipe" ]; then
    say "image $IMAGE is up to date (recipe $recipe)"
else
    say "building $IMAGE (recipe $recipe)${old:+, replacing ${old:7:12} (recipe ${have:-none})}"
    buildlog=$ctx/build.log
    # The legacy builder (Debian's docker.io has no buildx); DOCKER_BUILDKIT=0 says so
    # and keeps newer clients from asking for buildx.
    if ! DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE" "$ctx" >"$buildlog" 2>&1; then
        sed 's/^/docker-up:   /' "$buildlog" >&2
        fail "docker build of $IMAGE failed"
    fi
    say "built $IMAGE ($(docker image inspect -f '{{.Id}}' "$IMAGE" | cut -c8-19))"
    # The image it replaced is left untagged: remove it unless a container still uses it.
    [ -z "$old" ] || docker image rm "$old" >/dev/null 2>&1 || true
fi
# One container, to find a broken engine here rather than in the tests.
if ! out=$(docker run --rm "$IMAGE" sh -c 'test -d /tmp && echo ok' 2>&1); then
    echo "$out" | sed 's/^/docker-up:   /' >&2
    fail "a container from $IMAGE does not run"
fi

say "ready: engine $(docker version -f '{{.Server.Version}}' 2>/dev/null), image $IMAGE, took $(took)"
