"""Code stage throughput vs the I/O floor.

``code_vs_io_floor``: files per second of the code stage's steps (reader, language detection, Jupyter conversion,
every filter, partition by content and its writer, exact dedup within language, language table, contract writer),
run in process on one rank (the same steps the stage's two datatrove pipelines run, without the executor's process
start-up), against a plain walk-and-read of the same tree (``os.walk`` + reading every file): the floor no reader
can beat. The steps are built once and warmed up by a first run, so their start-up (lists and patterns read,
lid.176 loaded: once per task in the stage, whatever its number of files) is not timed, as the floor has none; the
stage and the floor are timed alternately, best of 5 each.

The tree is generated from the bundled samples (``proofpile/samples/code``): a few thousand files in all 17
languages plus the foreign and non-math ones, each copy made unique by a trailing comment, a few vendored
directories, and ~5% exact duplicates. The samples are short (100-900 bytes; the tree's mean was ~400 bytes), so
each is repeated to about ``TARGET_BYTES`` (a few KB, the size of a real source file): at 400 bytes the per-file
costs of both sides hid the per-byte costs of the filters, which are what a real corpus pays. The same run at the
samples' own sizes is in the figure's detail (``samples_as_they_are``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections import deque
from pathlib import Path

from proofpile.bench import PROJECT, best_of, best_of_alternating, figure

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "code"
N_FILES = 3000
TARGET_BYTES = 3000  # each sample repeated to a few KB, the size of a real source file
COMMENT = {"python": "# {}", "r": "# {}", "julia": "# {}", "gap": "# {}", "maple": "# {}", "c": "/* {} */",
           "cpp": "// {}", "verilog": "// {}", "coq": "(* {} *)", "isabelle": "(* {} *)", "fortran": "! {}",
           "haskell": "-- {}", "idris": "-- {}", "agda": "-- {}", "lean": "-- {}", "matlab": "% {}", "tex": "% {}"}


def make_tree(root: Path, n_files: int = N_FILES, target_bytes: int = TARGET_BYTES) -> int:
    templates = []
    for path in sorted(SAMPLES.rglob("*")):
        rel = path.relative_to(SAMPLES)
        if path.is_file() and rel.parts[0] in COMMENT | {"jupyter": 0} and not set(rel.parts) & {"vendor", ".lake"}:
            templates.append((rel, path.read_bytes()))
    for i in range(n_files):
        rel, data = templates[i % len(templates)]
        dest = root / f"repo{i // 200:03d}" / rel.parent / f"{i:05d}_{rel.name}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        copy = i % 20 == 19  # ~5% exact copies of an earlier file
        tag = f"copy {i % len(templates)}" if copy else f"variant {i}"
        if rel.parts[0] == "jupyter":
            nb = json.loads(data)
            nb["cells"] = nb["cells"] * max(1, -(-target_bytes // len(data)))
            nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": tag})
            data = json.dumps(nb).encode()
        elif rel.name.endswith((".mw", ".lagda.md")) or data.startswith(b"\x00"):
            pass
        else:
            data = (data.rstrip(b"\n") + b"\n") * max(1, -(-target_bytes // len(data)))
            data = data + b"\n" + COMMENT[rel.parts[0]].format(tag).encode() + b"\n"
        dest.write_bytes(data)
    for i in range(0, n_files // 200, 3):  # vendored copies the stage must skip
        vendored = root / f"repo{i:03d}" / "third_party" / "lib"
        vendored.mkdir(parents=True, exist_ok=True)
        (vendored / "copy.py").write_text("import numpy\n")
    return n_files


def walk_and_read(root: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as f:
                size += len(f.read())
            files += 1
    return files, size


def stage_pipelines(cfg, work: Path) -> list[list]:
    """The stage's two pipelines on one rank (filter, then dedup), as ``proofpile.stages.code.run`` builds them."""
    from proofpile.code.dedup import ExactDedupWithinLanguage, LanguageStats, PartitionByContent, PartitionWriter
    from proofpile.contract import ContractWriter
    from proofpile.stages.code import filter_steps

    parts = str(work / "partitions")
    return [filter_steps(cfg) + [PartitionByContent(1), PartitionWriter(parts)],
            [ExactDedupWithinLanguage(parts), LanguageStats(), ContractWriter(str(work / "code"))]]


def run_stage_steps(pipelines: list[list], work: Path) -> dict:
    """One run of the pipelines into ``work``; the files kept per language."""
    shutil.rmtree(work, ignore_errors=True)
    before = _kept(pipelines)
    for steps in pipelines:
        data = None
        for step in steps:
            data = step(data, rank=0, world_size=1)
        deque(data, maxlen=0)
    return {k: v - before.get(k, 0) for k, v in _kept(pipelines).items()}


def _kept(pipelines: list[list]) -> dict:
    from proofpile.code.dedup import LanguageStats

    stats = next(s for s in pipelines[-1] if isinstance(s, LanguageStats)).stats.stats
    return {k: v.total for k, v in stats.items() if k.endswith("/files")}


def run_reader(reader) -> int:
    """The reader alone (listing, opening, bounded reads, UTF-8 checks): what the filters add on top of it."""
    return sum(1 for _ in reader.run(None, 0, 1))


def measure(workdir: Path, target_bytes: int) -> dict:
    """The stage against the floor on a tree of files of about ``target_bytes`` each."""
    from proofpile.config import StageConfig

    tree = workdir / "tree"
    n = make_tree(tree, target_bytes=target_bytes)
    project = PROJECT
    cfg = StageConfig.load("code", project / "pipelines" / "code.yaml", data_root=workdir / "root",
                           overrides={"code": {"sources": [{"kind": "dir", "path": str(tree), "name": "bench"}]}})
    files, size = walk_and_read(tree)  # warms the page cache for both
    out = workdir / "out"
    pipelines = stage_pipelines(cfg, out)
    kept = run_stage_steps(pipelines, out)  # the warm-up run: start-up paid here, not timed
    floor_s, stage_s = best_of_alternating([lambda: walk_and_read(tree), lambda: run_stage_steps(pipelines, out)], 5)
    reader_s = best_of(lambda: run_reader(pipelines[0][0]), repeat=3)
    return dict(ratio=floor_s / stage_s, stage_files_per_s=round(files / stage_s, 1),
                floor_files_per_s=round(files / floor_s, 1), reader_files_per_s=round(files / reader_s, 1),
                stage_seconds=round(stage_s, 3), reader_seconds=round(reader_s, 3), floor_seconds=round(floor_s, 4),
                files=files, generated=n, bytes=size, mean_bytes=round(size / files), kept=sum(kept.values()),
                kept_by_language=dict(sorted(kept.items())))


def run(workdir: Path) -> list:
    real = measure(workdir / "real", TARGET_BYTES)
    small = measure(workdir / "small", 0)
    small = {k: small[k] for k in ("ratio", "stage_seconds", "floor_seconds", "mean_bytes", "kept")}
    small["ratio"] = round(small["ratio"], 4)
    return [figure("code_vs_io_floor", real.pop("ratio"), "x (files/s ratio)", "plain os.walk + read of the same tree",
                   **real, ranks=1, samples_as_they_are=small)]
