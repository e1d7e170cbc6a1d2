"""Code stage throughput vs the I/O floor.

``code_vs_io_floor``: files per second of the code stage's steps (reader, language detection, Jupyter conversion,
every filter, partition by content and its writer, exact dedup within language, language table, contract writer),
run in process on one rank (the same steps the stage's two datatrove pipelines run, without the executor's process
start-up), against a plain walk-and-read of the same tree (``os.walk`` + reading every file): the floor no reader
can beat. The tree is generated from the bundled samples (``proofpile/samples/code``): a few thousand files in all
17 languages plus the foreign and non-math ones, each copy made unique by a trailing comment, a few vendored
directories, and ~5% exact duplicates.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import deque
from pathlib import Path

from proofpile.bench import best_of, figure

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "code"
N_FILES = 3000
COMMENT = {"python": "# {}", "r": "# {}", "julia": "# {}", "gap": "# {}", "maple": "# {}", "c": "/* {} */",
           "cpp": "// {}", "verilog": "// {}", "coq": "(* {} *)", "isabelle": "(* {} *)", "fortran": "! {}",
           "haskell": "-- {}", "idris": "-- {}", "agda": "-- {}", "lean": "-- {}", "matlab": "% {}", "tex": "% {}"}


def make_tree(root: Path, n_files: int = N_FILES) -> int:
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
            nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": tag})
            data = json.dumps(nb).encode()
        elif rel.name.endswith((".mw", ".lagda.md")) or data.startswith(b"\x00"):
            pass
        else:
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


def run_stage_steps(cfg, work: Path) -> dict:
    from proofpile.code.dedup import ExactDedupWithinLanguage, LanguageStats, PartitionByContent, PartitionWriter
    from proofpile.contract import ContractWriter
    from proofpile.stages.code import filter_steps

    shutil.rmtree(work, ignore_errors=True)
    parts = str(work / "partitions")
    filtering = filter_steps(cfg) + [PartitionByContent(1), PartitionWriter(parts)]
    stats = LanguageStats()
    dedup = [ExactDedupWithinLanguage(parts), stats, ContractWriter(str(work / "code"))]
    for steps in (filtering, dedup):
        data = None
        for step in steps:
            data = step(data, rank=0, world_size=1)
        deque(data, maxlen=0)
    return {k: v.total for k, v in stats.stats.stats.items() if k.endswith("/files")}


def run_reader(cfg) -> int:
    """The reader alone (listing, opening, bounded reads, UTF-8 checks): what the filters add on top of it."""
    from proofpile.stages.code import filter_steps

    return sum(1 for _ in filter_steps(cfg)[0].run(None, 0, 1))


def run(workdir: Path) -> list:
    from proofpile.config import StageConfig

    tree = workdir / "tree"
    n = make_tree(tree)
    project = Path(__file__).resolve().parents[2]
    cfg = StageConfig.load("code", project / "pipelines" / "code.yaml", data_root=workdir / "root",
                           overrides={"code": {"sources": [{"kind": "dir", "path": str(tree), "name": "bench"}]}})
    files, size = walk_and_read(tree)  # warms the page cache for both
    floor_s = best_of(lambda: walk_and_read(tree), repeat=5)
    kept = run_stage_steps(cfg, workdir / "out")
    stage_s = best_of(lambda: run_stage_steps(cfg, workdir / "out"), repeat=5)  # best of 5: a shared machine
    reader_s = best_of(lambda: run_reader(cfg), repeat=3)
    floor_fps, stage_fps = files / floor_s, files / stage_s
    return [figure("code_vs_io_floor", stage_fps / floor_fps, "x (files/s ratio)", "plain os.walk + read of the same tree",
                   stage_files_per_s=round(stage_fps, 1), floor_files_per_s=round(floor_fps, 1),
                   reader_files_per_s=round(files / reader_s, 1), stage_seconds=round(stage_s, 3),
                   reader_seconds=round(reader_s, 3), floor_seconds=round(floor_s, 4), files=files, generated=n,
                   bytes=size, mean_bytes=round(size / files), kept=sum(kept.values()),
                   kept_by_language=dict(sorted(kept.items())), ranks=1)]
