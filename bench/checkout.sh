#!/usr/bin/env bash
# Checkouts of `run --commit`: a repository of ~5,000 files (100 folders × 50 source files,
# ~20 MB), a pipeline of four jobs (three in parallel, one after them), N runs (default 10).
# Prints, per run, the export of the commit (once per run) and each job's start after the
# run's start, which includes linking the export into the job's own checkout.
set -euo pipefail
. "$(dirname "$0")/common.sh"
N=${N:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
python3 - <<'PY'
import os, random
random.seed(1)
for d in range(100):
    os.makedirs(f"src/m{d}", exist_ok=True)
    for f in range(50):
        with open(f"src/m{d}/f{f}.rs", "w") as out:
            out.write(("// line %d\n" % f) * random.randint(10, 300))
PY
cat >pipekit.yml <<'YML'
services:
  a: {command: ["true"]}
  b: {command: ["true"]}
  c: {command: ["true"]}
  d:
    command: ["true"]
    depends_on: [a.ExitCode(0), b.ExitCode(0), c.ExitCode(0)]
YML
printf '.pipekit/runs/\n' >.gitignore
git init -q -b main
git add -A
git -c user.name=bench -c user.email=bench@example.invalid commit -q -m bench
echo "checkout repository: $(git ls-files | wc -l) files, $(du -sh --exclude=.git . | cut -f1)"
: >export.ms
: >first.ms
: >after.ms
for _ in $(seq "$N"); do
    rm -rf .pipekit
    "$PIPEKIT_CI" run --commit HEAD --no-progress 2>console.txt
    sed -n 's/.* exported in \([0-9]*\) ms$/\1/p' console.txt >>export.ms
    python3 - .pipekit/runs/*/run.json >>first.ms 3>>after.ms <<'PY'
import json, os, sys
jobs = {j["name"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
for name in "abc":
    print(round(jobs[name]["started_after_seconds"] * 1000, 2))
ends = max(jobs[n]["started_after_seconds"] + jobs[n]["duration_seconds"] for n in "abc")
os.write(3, ("%.2f\n" % ((jobs["d"]["started_after_seconds"] - ends) * 1000)).encode())
PY
done
echo "checkout export (ms)                      $(stats 90 <export.ms)"
echo "checkout parallel job start, 3 trees (ms)  $(stats 90 <first.ms)"
echo "checkout dependent start after exit (ms)  $(stats 90 <after.ms)"
