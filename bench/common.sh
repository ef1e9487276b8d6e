# Sourced by the bench scripts: locate (or build) the pipekit-ci binary.
# PIPEKIT_CI overrides; the default is target/release/pipekit-ci in the repo root.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
PIPEKIT_CI=${PIPEKIT_CI:-$REPO_ROOT/target/release/pipekit-ci}
case $PIPEKIT_CI in /*) ;; *) PIPEKIT_CI=$PWD/$PIPEKIT_CI ;; esac
if [ ! -x "$PIPEKIT_CI" ]; then
    echo "building $PIPEKIT_CI" >&2
    (cd "$REPO_ROOT" && cargo build --release -p pipekit-runner) >&2
fi
export PIPEKIT_CI

# stats [P]: median and P-th percentile (nearest rank; P defaults to 99) of numbers on
# stdin, one per line.
stats() {
    sort -g | awk -v p="${1:-99}" '{ v[NR] = $1 } END {
        if (NR == 0) { print "no samples"; exit 1 }
        med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        r = int(p / 100 * NR + 0.999999); if (r < 1) r = 1
        printf "n=%d median=%.2f p%d=%.2f min=%.2f max=%.2f\n", NR, med, p, v[r], v[1], v[NR]
    }'
}
