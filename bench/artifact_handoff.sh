#!/usr/bin/env bash
# Artifact handoff in `run --commit`: a producer job that declares a ~200 MB folder under
# `artifacts`, a consumer depending on `producer.ExitCode(0)`. Measures producer exit ->
# consumer start, the stored archive's size, and the peers on the same data in the same
# invocation (disk figures vary up to 2x between invocations: compare only within one).
#
#   bench/artifact_handoff.sh [--quick]      N runs per data set (default 5; --quick: 2)
#
# PIPEKIT_CI_BASELINE=<another pipekit-ci> measures that binary's handoff too, in the same
# invocation, for a before/after comparison.
#
# Timing: the producer's last command and the consumer's first are both `date +%s%N`
# (wall clock, nanoseconds) written to a file outside the checkouts; the difference
# includes one `date` process start and the producer's own exit, about 1-2 ms on this
# machine. Peers are timed with `date +%s%N` around each command.
#
# Data sets are built once and cached under ~/.cache/pipekit-bench/:
#   cargo-target  a real `cargo build --release` target folder (this workspace's own,
#                 PIPEKIT_BENCH_CARGO_TARGET overrides where it is copied from), ~200 MB
#   mixed         4,000 text files (~25 KB, compressible) and 400 random files (~256 KB)
set -euo pipefail
. "$(dirname "$0")/common.sh"

N=${N:-5}
if [ "${1:-}" = --quick ]; then N=2; fi
CACHE=${PIPEKIT_BENCH_CACHE:-$HOME/.cache/pipekit-bench}
mkdir -p "$CACHE"

ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

prepare_cargo_target() {
    local dest=$CACHE/cargo-target
    [ -d "$dest" ] && return
    local source=${PIPEKIT_BENCH_CARGO_TARGET:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release}
    if [ ! -d "$source/deps" ]; then
        echo "no cargo release target folder at $source: build one or set PIPEKIT_BENCH_CARGO_TARGET" >&2
        exit 1
    fi
    echo "caching a copy of $source as $dest (capped at ~200 MB)" >&2
    python3 - "$source" "$dest.partial" <<'PY'
import os, shutil, sys
source, dest = sys.argv[1], sys.argv[2]
budget = 200 * 1024 * 1024
for root, dirs, files in os.walk(source):
    dirs.sort()
    rel = os.path.relpath(root, source)
    os.makedirs(os.path.join(dest, rel), exist_ok=True)
    for name in sorted(files):
        path = os.path.join(root, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        size = os.path.getsize(path)
        if size > budget:
            continue
        budget -= size
        shutil.copy2(path, os.path.join(dest, rel, name))
PY
    mv "$dest.partial" "$dest"
}

prepare_mixed() {
    local dest=$CACHE/mixed
    [ -d "$dest" ] && return
    echo "generating $dest" >&2
    python3 - "$dest.partial" <<'PY'
import os, random, sys
dest = sys.argv[1]
random.seed(5)
words = [("w%d" % i) * random.randint(1, 4) for i in range(3000)]
for d in range(80):
    os.makedirs(f"{dest}/text/d{d}", exist_ok=True)
    for f in range(50):
        lines = []
        size = 0
        while size < 25_000:
            line = " ".join(random.choice(words) for _ in range(12)) + "\n"
            lines.append(line)
            size += len(line)
        with open(f"{dest}/text/d{d}/f{f}.txt", "w") as out:
            out.writelines(lines)
for d in range(8):
    os.makedirs(f"{dest}/random/d{d}", exist_ok=True)
    for f in range(50):
        with open(f"{dest}/random/d{d}/r{f}.bin", "wb") as out:
            out.write(os.urandom(256 * 1024))
PY
    mv "$dest.partial" "$dest"
}

prepare_cargo_target
prepare_mixed

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
results=$work/results.md
: >"$results"

# measure_handoff BINARY NAME REPO OUT: N runs; appends each handoff (ms) to OUT, prints the
# archive's size.
measure_handoff() {
    local binary=$1 name=$2 repo=$3 out=$4 archive_bytes=0
    : >"$out"
    for _ in $(seq "$N"); do
        rm -rf "$repo/.pipekit"
        sync
        (cd "$repo" && "$binary" run --commit HEAD --no-progress >"$work/console.txt" 2>&1) || {
            cat "$work/console.txt" >&2
            exit 1
        }
        echo "scale=1; ($(cat "$work/$name.consumer-start") - $(cat "$work/$name.producer-end")) / 1000000" |
            bc >>"$out"
        archive_bytes=$(stat -c %s "$repo"/.pipekit/runs/*/artifacts/producer.tar.zst)
    done
    echo "$archive_bytes"
}

# bench_set NAME: pipekit-ci and the peers on $CACHE/NAME.
bench_set() {
    local name=$1 data=$CACHE/$1
    local files bytes
    files=$(find "$data" -type f | wc -l)
    bytes=$(du -sb "$data" | cut -f1)
    echo "== $name: $files files, $((bytes / 1024 / 1024)) MiB"

    local repo=$work/repo-$name
    mkdir -p "$repo"
    (
        cd "$repo"
        cat >pipekit.yml <<YML
services:
  producer:
    command: ["sh", "-c", "cp -a '$data' out && date +%s%N >'$work/$name.producer-end'"]
    artifacts: [out]
  consumer:
    command: ["sh", "-c", "date +%s%N >'$work/$name.consumer-start' && test -d out"]
    depends_on: [producer.ExitCode(0)]
YML
        printf '.pipekit/runs/\n' >.gitignore
        git init -q -b main
        git add -A
        git -c user.name=bench -c user.email=bench@example.invalid commit -q -m bench
    )
    local archive_bytes handoff baseline=""
    archive_bytes=$(measure_handoff "$PIPEKIT_CI" "$name" "$repo" "$work/$name.handoff.ms")
    handoff=$(stats 90 <"$work/$name.handoff.ms")
    echo "pipekit-ci producer exit -> consumer start (ms): $handoff"
    echo "pipekit-ci archive: $archive_bytes bytes"
    if [ -n "${PIPEKIT_CI_BASELINE:-}" ]; then
        local baseline_bytes
        baseline_bytes=$(measure_handoff "$PIPEKIT_CI_BASELINE" "$name" "$repo" "$work/$name.baseline.ms")
        baseline="; baseline $(stats 90 <"$work/$name.baseline.ms" | sed -n 's/.*median=\([0-9.]*\).*/\1/p') ms, $baseline_bytes bytes"
        echo "baseline ($PIPEKIT_CI_BASELINE) exit -> start (ms): $(stats 90 <"$work/$name.baseline.ms"), archive $baseline_bytes bytes"
    fi

    # The peers, on the same data, one after the other.
    local start zstd_pack zstd_unpack zstd_bytes gzip_pack gzip_bytes rsync_copy
    sync
    start=$(date +%s%N)
    tar -C "$data" -cf - . | zstd -q -T0 -3 -o "$work/peer.tar.zst"
    zstd_pack=$(ms_since "$start")
    zstd_bytes=$(stat -c %s "$work/peer.tar.zst")
    mkdir "$work/unpacked"
    start=$(date +%s%N)
    zstd -q -dc "$work/peer.tar.zst" | tar -C "$work/unpacked" -xf -
    zstd_unpack=$(ms_since "$start")
    rm -rf "$work/unpacked" "$work/peer.tar.zst"
    sync
    start=$(date +%s%N)
    tar -C "$data" -cf - . | gzip >"$work/peer.tar.gz"
    gzip_pack=$(ms_since "$start")
    gzip_bytes=$(stat -c %s "$work/peer.tar.gz")
    rm -f "$work/peer.tar.gz"
    sync
    start=$(date +%s%N)
    rsync -a "$data/" "$work/rsynced/"
    rsync_copy=$(ms_since "$start")
    rm -rf "$work/rsynced"
    echo "peers: tar|zstd -T0 -3 pack ${zstd_pack} ms + unpack ${zstd_unpack} ms ($zstd_bytes bytes);" \
        "tar|gzip pack ${gzip_pack} ms ($gzip_bytes bytes); rsync -a copy ${rsync_copy} ms"

    local median ratio verdict
    median=$(sed -n 's/.*median=\([0-9.]*\).*/\1/p' <<<"$handoff")
    ratio=$(echo "scale=3; $archive_bytes / $zstd_bytes" | bc)
    if [ "$(echo "$median < $rsync_copy && $archive_bytes <= $zstd_bytes * 1.02" | bc)" = 1 ]; then
        verdict="faster than the rsync copy, archive as small as zstd -3"
    else
        verdict="target missed"
    fi
    printf '| %s (%s files, %s MiB) | %s ms median (%s) | %s bytes, %sx zstd -3 | zstd -3 %s + %s ms; gzip %s ms; rsync %s ms | %s |\n' \
        "$name" "$files" "$((bytes / 1024 / 1024))" "$median" "$handoff$baseline" "$archive_bytes" "$ratio" \
        "$zstd_pack" "$zstd_unpack" "$gzip_pack" "$rsync_copy" "$verdict" >>"$results"
}

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), binary $PIPEKIT_CI, N=$N"
bench_set cargo-target
bench_set mixed
echo
echo "| workload | pipekit-ci handoff (producer exit -> consumer start) | archive size vs zstd -3 | peers | verdict |"
echo "|---|---|---|---|---|"
cat "$results"
