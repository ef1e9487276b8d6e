# Sourced by the bench scripts: locate (or build) the pipekit-ci binary.
# PIPEKIT_CI overrides; the default is release/pipekit-ci in $CARGO_TARGET_DIR, else in the
# repo's target/.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)
PIPEKIT_CI=${PIPEKIT_CI:-${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release/pipekit-ci}
case $PIPEKIT_CI in /*) ;; *) PIPEKIT_CI=$PWD/$PIPEKIT_CI ;; esac
if [ ! -x "$PIPEKIT_CI" ]; then
    echo "building $PIPEKIT_CI" >&2
    (cd "$REPO_ROOT" && cargo build --release -p pipekit-ci) >&2
fi
export PIPEKIT_CI

# stats [P...]: median and the P-th percentiles (nearest rank; P defaults to 99) of numbers
# on stdin, one per line: "n=.. median=.. pP=.. ... min=.. max=..".
stats() {
    local ps="${*:-99}"
    sort -g | awk -v ps="$ps" '{ v[NR] = $1 } END {
        if (NR == 0) { print "no samples"; exit 1 }
        med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        out = sprintf("n=%d median=%.2f", NR, med)
        k = split(ps, p, " ")
        for (i = 1; i <= k; i++) {
            r = int(p[i] / 100 * NR + 0.999999); if (r < 1) r = 1
            out = out sprintf(" p%d=%.2f", p[i], v[r])
        }
        printf "%s min=%.2f max=%.2f\n", out, v[1], v[NR]
    }'
}

# gitlab_repo DIR: make DIR a git repository gitlab-ci-local accepts: one commit of
# everything in it, and an `origin` (a bare repository next to it) whose HEAD is the branch.
gitlab_repo() {
    local dir=$1
    git -C "$dir" init -q -b main
    git -C "$dir" add -A
    git -C "$dir" -c user.email=bench@localhost -c user.name=bench commit -q -m bench
    git init -q --bare -b main "$dir.origin.git"
    git -C "$dir" remote add origin "$dir.origin.git"
    git -C "$dir" push -q origin main
    git -C "$dir" remote set-head origin main
}
