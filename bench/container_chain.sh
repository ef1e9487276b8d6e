#!/usr/bin/env bash
# Three containers in a chain (b after a exited 0, c after b), each running `true` in the
# local test image pipekit-test/busybox, with hyperfine:
#   raw      three sequential `docker run --rm IMAGE true`: the lower bound
#   compose  docker-compose (v1) `up` of the same chain (depends_on with
#            condition: service_completed_successfully), then `down`
#   pipekit  pipekit-ci run -f bench/pipelines/chain.yml --no-progress
# Prints medians in ms and the ratios pipekit/raw and pipekit/compose; hyperfine JSON goes
# to $OUT_DIR. scripts/docker-up.sh makes sure of the engine and the image first.
set -euo pipefail
. "$(dirname "$0")/common.sh"

RUNS=${RUNS:-10}
OUT_DIR=${OUT_DIR:-$(mktemp -d)}
IMAGE=pipekit-test/busybox:latest
bash "$REPO_ROOT/scripts/docker-up.sh" >&2

work=$(mktemp -d)
project=pkchain$$
cleanup() {
    docker-compose -p "$project" down >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
# The run folder is made next to the pipeline file: use a copy, so it lands in $work and
# the jobs' source tree (/workspace) is this small folder rather than the repository.
cp "$BENCH_DIR/pipelines/chain.yml" "$work/chain.yml"
cat >"$work/docker-compose.yml" <<EOF
version: "2.4"
services:
  a:
    image: $IMAGE
    command: ["true"]
  b:
    image: $IMAGE
    command: ["true"]
    depends_on:
      a: {condition: service_completed_successfully}
  c:
    image: $IMAGE
    command: ["true"]
    depends_on:
      b: {condition: service_completed_successfully}
EOF
cd "$work"

# `up` without --abort-on-container-exit: that flag would stop everything as soon as `a`
# exits. Plain `up` starts b after a, c after b, and returns once all three have exited.
# A fresh project name per run (the shell's pid), and `down` removes containers and network.
compose_cmd='p=pkchain$$; docker-compose -p $p up --no-color >/dev/null 2>&1; docker-compose -p $p down >/dev/null 2>&1'
raw_cmd="docker run --rm $IMAGE true && docker run --rm $IMAGE true && docker run --rm $IMAGE true"
pipekit_cmd="'$PIPEKIT_CI' run -f chain.yml --no-progress >/dev/null 2>&1"

# Sanity: each one runs the whole chain and succeeds.
eval "$raw_cmd" || { echo "docker run failed" >&2; exit 1; }
docker-compose -p "$project" up --no-color >/dev/null 2>&1
exited=$(docker-compose -p "$project" ps | grep -c 'Exit 0' || true)
docker-compose -p "$project" down >/dev/null 2>&1
[ "$exited" = 3 ] || { echo "docker-compose: $exited of 3 containers exited 0" >&2; exit 1; }
# pipekit-ci: exit 0 and a JUnit report with a, b and c, none failed or skipped. Until it
# can run containers it is reported as failed and only the peers are measured.
pk_ok=1
export PK_FAILURE=
if "$PIPEKIT_CI" run -f chain.yml --no-progress >console.txt 2>&1; then
    junit=$(echo .pipekit/runs/*/junit.xml)
    for job in a b c; do grep -q "<testcase[^>]* name=\"$job\"" "$junit" || pk_ok=; done
    ! grep -qE '<(failure|skipped)' "$junit" || pk_ok=
    if [ -z "$pk_ok" ]; then
        PK_FAILURE="exit 0, but not a, b and c passed in its JUnit report"
        echo "pipekit-ci: unexpected JUnit report:" >&2
        cat "$junit" >&2
    fi
else
    rc=$?
    pk_ok=
    PK_FAILURE="exit $rc: $(grep -m1 -i 'error' console.txt || tail -n 1 console.txt)"
    echo "pipekit-ci run failed (exit $rc); last lines:" >&2
    tail -n 5 console.txt | sed 's/^/  /' >&2
fi
rm -rf console.txt .pipekit

names=(raw compose)
cmds=("$raw_cmd" "$compose_cmd")
if [ -n "$pk_ok" ]; then
    names+=(pipekit)
    cmds+=("$pipekit_cmd")
fi
args=()
for i in "${!names[@]}"; do
    # One --prepare per command: pipekit-ci's run folders are removed before each run.
    [ "${names[$i]}" = pipekit ] && args+=(--prepare 'rm -rf .pipekit') || args+=(--prepare true)
done
for i in "${!names[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine --warmup 1 --runs "$RUNS" --style basic --export-json "$OUT_DIR/container_chain.json" \
    "${args[@]}" >&2

# gitlab-ci-local (when $GITLAB_CI_LOCAL is set; bench/peers.sh sets it): the same three
# jobs as stages in its Docker executor, offline (no pull, the local image as helper), in a
# repository of its own under $work. GITLAB_RUNS runs (default 3): each takes seconds.
gitlab_status=
if [ -n "${GITLAB_CI_LOCAL:-}" ]; then
    for v in $(compgen -e | grep '^GCL_' || true); do unset "$v"; done
    mkdir "$work/gitlab"
    {
        echo "stages: [a, b, c]"
        for job in a b c; do printf '%s:\n  stage: %s\n  image: %s\n  script: ["true"]\n' "$job" "$job" "$IMAGE"; done
    } >"$work/gitlab/.gitlab-ci.yml"
    gitlab_repo "$work/gitlab"
    gcl_cmd="'$GITLAB_CI_LOCAL' --concurrency 2 --pull-policy if-not-present --helper-image $IMAGE"
    if (cd "$work/gitlab" && eval "$gcl_cmd" >gcl.txt 2>&1) && [ "$(grep -cE 'PASS +[abc] *$' "$work/gitlab/gcl.txt")" = 3 ]; then
        (cd "$work/gitlab" && hyperfine --warmup 0 --runs "${GITLAB_RUNS:-3}" --style basic \
            --export-json "$OUT_DIR/container_chain_gitlab.json" -n gitlab-ci-local "$gcl_cmd >/dev/null 2>&1" >&2)
    else
        gitlab_status="FAILED ($(tail -n 1 "$work/gitlab/gcl.txt"))"
        echo "gitlab-ci-local failed on the chain:" >&2
        tail -n 5 "$work/gitlab/gcl.txt" >&2
    fi
fi

echo "hyperfine JSON: $OUT_DIR/container_chain.json" >&2
python3 - "$OUT_DIR/container_chain.json" <<'EOF'
import json, os, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
for k, v in med.items():
    print(f"container_chain {k:8} median {v:8.1f} ms  (min {r[k]['min']*1000:.1f}, max {r[k]['max']*1000:.1f})")
if "pipekit" in med:
    print(f"container_chain ratio pipekit/raw {med['pipekit'] / med['raw']:.2f}x")
    print(f"container_chain ratio pipekit/compose {med['pipekit'] / med['compose']:.2f}x")
else:
    print(f"container_chain pipekit FAILED ({os.environ['PK_FAILURE']}); ratios n/a")
EOF
if [ -n "$gitlab_status" ]; then
    echo "container_chain gitlab-ci-local $gitlab_status"
elif [ -f "$OUT_DIR/container_chain_gitlab.json" ]; then
    python3 - "$OUT_DIR/container_chain_gitlab.json" <<'EOF'
import json, sys
x = json.load(open(sys.argv[1]))["results"][0]
print(f"container_chain gitlab-ci-local median {x['median']*1000:8.1f} ms  (min {x['min']*1000:.1f}, max {x['max']*1000:.1f})")
EOF
fi
