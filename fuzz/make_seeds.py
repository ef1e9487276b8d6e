#!/usr/bin/env python3
"""Writes the seed corpora under fixtures/fuzz/<target>/ (run from the repository root).

Pipelines come from fixtures/ and pipelines/; the rest is written here so the seeds can be
regenerated and reviewed. Archives need the `zstd` command.
"""

import io
import pathlib
import shutil
import subprocess
import tarfile

ROOT = pathlib.Path("fixtures/fuzz")


def fresh(target):
    folder = ROOT / target
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def pipelines():
    folder = fresh("pipeline")
    for source in sorted(
        [*pathlib.Path("fixtures/valid").glob("*.yml"),
         *pathlib.Path("fixtures/invalid").glob("*.yml"),
         *pathlib.Path("pipelines").glob("*.yml")]
    ):
        shutil.copy(source, folder / f"{source.parent.name}-{source.name}")


SIGNALS = [
    'Grep(stdout, "Database is ready"):30',
    "Grep(stderr, 'Finished \\w+'):120",
    'Grep(stdout, "ready (to accept")',
    'Grep(stdout, "ready"):abc',
    'Exists("tests/report.xml")',
    'Exists("a/../../b")',
    'Exists("")',
    "Port(8080):2.5",
    "Port(0)",
    "Port(65536)",
    "Port(http)",
    "Port()",
    "  Grep( stdout ,\"é\\\"x\" ) : 1.5 ",
    "ExitCode",
    "Healthy",
    "db.ready",
    "build.ExitCode(0)",
    "build.ExitCode(-1)",
    "web.Started",
    "web.Exited",
    "web.Healthy",
    "web.Exitcode(0)",
    "job.",
    ".ready",
    "a.b c",
]

ENV_FILES = {
    "plain": "KEY=value\nOTHER=1\n",
    "export": "export TOKEN=abc\nexport\tX=y\n",
    "comments": "# comment\n\nA=b # trailing\nB=a#b\nC= # empty\n",
    "quoted": "D=\"line\\nnext \\\"q\\\" \\t \\\\ \\x\"\nS='single # kept'\n",
    "crlf": "A=1\r\nB=\"2\"\r\n",
    "unicode": "NAME=héllo wörld\nE=\"日本\"\n",
    "bad-key": "1KEY=x\n",
    "unterminated": "A=\"open\nB='also\n",
    "after-quote": "A=\"x\" y\n",
    "no-equals": "just words\n",
}


def tar_bytes(members):
    """members: (name, kind, payload) with kind file|dir|symlink|hardlink|fifo."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            data = None
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                info.mode = 0o644
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = payload
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = payload
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


ARCHIVES = {
    "plain": [("out", "dir", ""), ("out/a.txt", "file", "hello\n"), ("b", "file", "")],
    "symlink-inside": [("a", "file", "x"), ("dir", "dir", ""), ("dir/l", "symlink", "../a")],
    "symlink-escape": [("l", "symlink", "../outside/secret")],
    "symlink-absolute": [("l", "symlink", "/etc/passwd")],
    "write-through-symlink": [("l", "symlink", "."), ("l/x", "file", "through")],
    "parent-path": [("../escape", "file", "x")],
    "absolute-path": [("/tmp/escape", "file", "x")],
    "hardlink-inside": [("a", "file", "x"), ("b", "hardlink", "a")],
    "hardlink-escape": [("b", "hardlink", "../outside/secret")],
    "replace-dir-with-file": [("d", "dir", ""), ("d", "file", "x")],
    "fifo": [("p", "fifo", "")],
    "long-name": [("n" * 150 + "/" + "m" * 120, "file", "long")],
}


def signal_seeds():
    folder = fresh("signal_expression")
    for index, text in enumerate(SIGNALS):
        (folder / f"{index:02}").write_text(text)


def env_seeds():
    folder = fresh("env_file")
    for name, text in ENV_FILES.items():
        (folder / f"{name}.env").write_text(text)


def archive_seeds():
    folder = fresh("artifact_extract")
    for name, members in ARCHIVES.items():
        tar = tar_bytes(members)
        compressed = subprocess.run(
            ["zstd", "-q", "-c", "-1"], input=tar, capture_output=True, check=True
        ).stdout
        (folder / f"{name}.tar.zst").write_bytes(compressed)
        # The same archive uncompressed behind the `T` prefix the target understands.
        (folder / f"{name}.T.tar").write_bytes(b"T" + tar)


if __name__ == "__main__":
    pipelines()
    signal_seeds()
    env_seeds()
    archive_seeds()
