#!/usr/bin/env python3
"""Write the same no-op DAG for pipekit-ci, ninja, make and gitlab-ci-local into a directory.

Shapes:
  layers  LAYERS x WIDTH jobs (default 10 x 50 = 500); every job of layer k depends on every
          job of layer k-1.
  fan     fan-out/fan-in of JOBS jobs (default 500): one root, JOBS-2 jobs after it, one sink
          after all of those.
Each job runs `true` and nothing else, and every job runs on every invocation (ninja:
outputs are never created; make: all targets are .PHONY), so the tools do the same work:
spawn the processes in dependency order.

.gitlab-ci.yml expresses the same graph with `stages:` (every job of a stage waits for the
whole previous stage, which is exactly the layered shape), or with `needs:` (--gitlab needs).
gitlab-ci-local's `needs:` walk does not finish beyond ~30 jobs (no visited set), which is
why stages are the default.

usage: gen_dag.py DIR [LAYERS] [WIDTH] [--fan JOBS] [--gitlab stages|needs]
"""
import os
import sys


def main() -> None:
    args = sys.argv[1:]
    gitlab = "stages"
    fan = 0
    pos = []
    while args:
        a = args.pop(0)
        if a == "--gitlab":
            gitlab = args.pop(0)
        elif a == "--fan":
            fan = int(args.pop(0))
        else:
            pos.append(a)
    if not pos or gitlab not in ("stages", "needs"):
        sys.exit(__doc__)
    out = pos[0]
    if fan:
        if fan < 3:
            sys.exit("--fan needs at least 3 jobs")
        layer_names = [["root"], [f"mid-{n}" for n in range(fan - 2)], ["sink"]]
    else:
        layers = int(pos[1]) if len(pos) > 1 else 10
        width = int(pos[2]) if len(pos) > 2 else 50
        layer_names = [[f"l{k}-j{n}" for n in range(width)] for k in range(layers)]
    os.makedirs(out, exist_ok=True)

    # (layer index, name, names of the jobs it depends on)
    jobs = [
        (k, name, layer_names[k - 1] if k > 0 else [])
        for k, layer in enumerate(layer_names)
        for name in layer
    ]
    last = layer_names[-1]

    # pipekit-ci: exec-form command (no shell), gated on ExitCode(0) of the previous layer.
    lines = ['version: "1"', "name: dag", "services:"]
    for _, name, deps in jobs:
        lines.append(f"  {name}:")
        lines.append('    command: ["true"]')
        if deps:
            conds = ", ".join(f"{d}.ExitCode(0)" for d in deps)
            lines.append(f"    depends_on: [{conds}]")
    write(out, "pipekit.yml", lines)

    # ninja: `true` never creates $out, so every edge is dirty on every run.
    lines = ["rule noop", "  command = true", ""]
    for _, name, deps in jobs:
        lines.append(f"build {name}: noop" + (f" | {' '.join(deps)}" if deps else ""))
    lines.append("default " + " ".join(last))
    write(out, "build.ninja", lines)

    # make: phony targets are always out of date; `@true` is spawned directly by make
    # (no shell metacharacters), as ninja does via /bin/sh -c.
    lines = ["all: " + " ".join(last), ""]
    lines.append(".PHONY: all " + " ".join(name for _, name, _ in jobs))
    for _, name, deps in jobs:
        lines.append(f"{name}: " + " ".join(deps))
        lines.append("\t@true")
    write(out, "Makefile", lines)

    # gitlab-ci-local: jobs without `image:` run in its shell executor.
    lines = []
    if gitlab == "stages":
        lines.append("stages: [" + ", ".join(f"s{k}" for k in range(len(layer_names))) + "]")
    for k, name, deps in jobs:
        lines.append(f"{name}:")
        lines.append('  script: ["true"]')
        if gitlab == "stages":
            lines.append(f"  stage: s{k}")
        else:
            lines.append("  needs: [" + ", ".join(deps) + "]")
    write(out, ".gitlab-ci.yml", lines)


def write(out: str, fname: str, lines: list[str]) -> None:
    with open(os.path.join(out, fname), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
