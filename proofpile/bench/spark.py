"""The web stage on Spark: speed-up of ``local[2]`` over ``local[1]`` on the same WARCs (``spark2_vs_1``).

The workload is the web stage's demo WARC repeated: ``FILES`` WARC files, each the demo's records ``COPIES`` times
over (concatenated gzip members, as Common Crawl's WARCs are), one file per rank, so that the stage's own work and
not Spark's per-task overhead is what is timed. Each run starts its Spark session and warms one Python worker per
core first (timed apart), then times the stage alone; both runs must write byte-identical outputs, or the figure is
not reported.
"""

from __future__ import annotations

import hashlib
import os
import time
import zlib
from pathlib import Path

from proofpile.bench import PROJECT, figure

DEMO_WARC = PROJECT / "proofpile" / "samples" / "web" / "demo.warc.gz"
FILES = 8
COPIES = 160


def complete_members(data: bytes) -> bytes:
    """The gzip members (WARC records) of ``data`` that decompress completely: a clipped last record (the demo
    carries one, as a bad-input case) would end a repeated file at its first copy."""
    kept, rest = [], data
    while rest:
        dec = zlib.decompressobj(31)
        try:
            dec.decompress(rest)
        except zlib.error:
            break
        if not dec.eof:
            break
        kept.append(rest[: len(rest) - len(dec.unused_data)])
        rest = dec.unused_data
    return b"".join(kept)


def make_warcs(folder: Path, files: int = FILES, copies: int = COPIES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    demo = complete_members(DEMO_WARC.read_bytes())
    for i in range(files):
        (folder / f"bench-{i:03d}.warc.gz").write_bytes(demo * copies)
    return folder


def _hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _warm_up(_):
    import proofpile.stages.web  # noqa: F401
    import proofpile.web.extract  # noqa: F401
    import proofpile.web.filters  # noqa: F401

    time.sleep(0.5)  # keep this worker busy so that the next partition goes to another one
    return os.getpid()


def run_web(workdir: Path, master: str, warcs: Path, model: str) -> dict:
    from proofpile.config import StageConfig
    from proofpile.spark import spark_session
    from proofpile.stage import run_stage

    started = time.perf_counter()
    session = spark_session(master, f"bench-{master}", {"spark.ui.enabled": "false",
                                                        "spark.ui.showConsoleProgress": "false"})
    # the JVM and one Python worker per core are up and have imported the web stage's code, as on a long-lived
    # cluster: what is timed below is the stage, not interpreter start-up
    cores = session.sparkContext.defaultParallelism
    session.sparkContext.parallelize(range(cores), cores).map(_warm_up).collect()
    session_s = time.perf_counter() - started
    root = workdir / master.replace("[", "").replace("]", "")
    cfg = StageConfig.load("web", PROJECT / "pipelines" / "web.yaml", data_root=root,
                           overrides={"web": {"warcs": f"{warcs}/*.warc.gz", "mathscore": {"model": model}},
                                      "executor": {"kind": "spark", "tasks": FILES, "spark": {"master": master}}})
    try:
        started = time.perf_counter()
        run_stage(cfg)
        stage_s = time.perf_counter() - started
    finally:
        session.stop()
    return {"session_s": round(session_s, 2), "stage_s": round(stage_s, 2), "outputs": _hashes(root / "web")}


def run(workdir: Path) -> list:
    from proofpile.config import StageConfig
    from proofpile.stages.web import mathscore_model

    if not DEMO_WARC.exists():
        return []
    load_before = os.getloadavg()[0]
    warcs = make_warcs(workdir / "warcs")
    model = mathscore_model(StageConfig.load("web", PROJECT / "pipelines" / "web.yaml", data_root=workdir / "m"))
    one = run_web(workdir, "local[1]", warcs, model)
    two = run_web(workdir, "local[2]", warcs, model)
    if one["outputs"] != two["outputs"]:
        raise AssertionError("local[1] and local[2] wrote different outputs")
    size = sum(p.stat().st_size for p in warcs.iterdir())
    return [figure("spark2_vs_1", one["stage_s"] / two["stage_s"], "x", "web stage on Spark local[1]",
                   local1_stage_s=one["stage_s"], local2_stage_s=two["stage_s"],
                   local1_session_start_s=one["session_s"], local2_session_start_s=two["session_s"],
                   warc_files=FILES, demo_copies_per_file=COPIES, warc_bytes=size, ranks=FILES,
                   output_files=len(one["outputs"]), cpus=os.cpu_count(),
                   load_average_1m_before=round(load_before, 2), load_average_1m_after=round(os.getloadavg()[0], 2),
                   goal=">= 1.6x on 2 cores (a machine shared with other work gives less: see the load averages)")]
