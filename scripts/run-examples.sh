#!/usr/bin/env bash
# The README's first command: builds pipekit-ci and runs the paper's examples. The CI and
# three-tier examples run on host processes (no Docker needed); the three-tier example in
# containers follows when a Docker engine answers.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p pipekit-ci
pipekit=./target/release/pipekit-ci
for pipeline in pipelines/paper-ci.yml pipelines/three-tier.yml; do
  echo "### pipekit-ci run -f $pipeline"
  "$pipekit" run -f "$pipeline"
done
containers=pipelines/three-tier-containers.yml
if docker info >/dev/null 2>&1; then
  # An engine is there: make sure the example's image exists (built locally, no registry).
  bash scripts/docker-up.sh
  echo "### pipekit-ci run -f $containers"
  "$pipekit" run -f "$containers"
else
  echo "### no Docker engine answers: $containers not run (start Docker, or run"
  echo "### scripts/docker-up.sh as root on Debian, to run it)"
fi
