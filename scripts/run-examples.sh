#!/usr/bin/env bash
# The README's first command: builds pipekit-ci and runs the paper's two examples on host
# processes (no Docker needed): the CI example, then the three-tier example.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p pipekit-runner
for pipeline in pipelines/paper-ci.yml pipelines/three-tier.yml; do
  echo "### pipekit-ci run -f $pipeline"
  ./target/release/pipekit-ci run -f "$pipeline"
done
