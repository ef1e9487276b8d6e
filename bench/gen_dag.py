#!/usr/bin/env python3
"""Write the same no-op DAG for pipekit-ci, ninja and make into a directory.

LAYERS x WIDTH jobs (default 10 x 50 = 500); every job of layer k depends on every
job of layer k-1. Each job runs `true` and nothing else, and every job runs on every
invocation (ninja: outputs are never created; make: all targets are .PHONY), so the
three tools do the same work: spawn 500 processes in dependency order.

usage: gen_dag.py DIR [LAYERS] [WIDTH]
"""
import os
import sys


def main() -> None:
    out = sys.argv[1]
    layers = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    os.makedirs(out, exist_ok=True)

    def name(k: int, n: int) -> str:
        return f"l{k}-j{n}"

    def deps(k: int) -> list[str]:
        return [name(k - 1, n) for n in range(width)] if k > 0 else []

    jobs = [(k, n) for k in range(layers) for n in range(width)]

    # pipekit-ci: exec-form command (no shell), gated on ExitCode(0) of the previous layer.
    lines = ['version: "1"', "name: dag", "services:"]
    for k, n in jobs:
        lines.append(f"  {name(k, n)}:")
        lines.append('    command: ["true"]')
        if k > 0:
            conds = ", ".join(f"{d}.ExitCode(0)" for d in deps(k))
            lines.append(f"    depends_on: [{conds}]")
    write(out, "pipekit.yml", lines)

    # ninja: `true` never creates $out, so every edge is dirty on every run.
    lines = ["rule noop", "  command = true", ""]
    for k, n in jobs:
        dep = " ".join(deps(k))
        lines.append(f"build {name(k, n)}: noop" + (f" | {dep}" if dep else ""))
    lines.append("default " + " ".join(name(layers - 1, n) for n in range(width)))
    write(out, "build.ninja", lines)

    # make: phony targets are always out of date; `@true` is spawned directly by make
    # (no shell metacharacters), as ninja does via /bin/sh -c.
    targets = [name(k, n) for k, n in jobs]
    lines = ["all: " + " ".join(name(layers - 1, n) for n in range(width)), ""]
    lines.append(".PHONY: all " + " ".join(targets))
    for k, n in jobs:
        lines.append(f"{name(k, n)}: " + " ".join(deps(k)))
        lines.append("\t@true")
    write(out, "Makefile", lines)


def write(out: str, fname: str, lines: list[str]) -> None:
    with open(os.path.join(out, fname), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
