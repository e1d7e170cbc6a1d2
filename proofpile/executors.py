"""Executors: how a stage's datatrove ranks are run.

``executor: {kind: local|spark|ray|slurm, tasks: N, workers: M, progress: bool, spark: {...}, ray: {...},
slurm: {...}}`` in a config (``pipelines/common.yaml``; a stage may override it under its own ``executor:`` key).
Every kind runs the same ``PipelineExecutor._run_for_rank`` per rank, so datatrove's completion files
(``<logging_dir>/completions/NNNNN``) make finished ranks skip everywhere and a failed or killed rank is the only one
rerun. ``tasks`` fixes the shard layout (output files are named by rank); ``workers`` only how many run at once.

- ``local``: datatrove's ``LocalPipelineExecutor`` (a process pool on this machine).
- ``spark``: ``proofpile.spark.SparkPipelineExecutor`` -- one Spark task per rank through PySpark
  (``spark: {master: "local[2]" | "spark://host:7077" | "yarn" | "k8s://...", app_name, conf: {...}}``; under
  ``spark-submit`` the submitted session is used).
- ``ray``: datatrove's ``RayPipelineExecutor``; ``ray: {...}`` is passed to it as keyword arguments (``ray`` is
  an optional dependency: ``pip install ray``).
- ``slurm``: datatrove's ``SlurmPipelineExecutor``; ``slurm: {partition, time, ...}`` is passed through. The
  stage waits until the array job has finished (polling ``squeue`` every ``slurm.poll_seconds``) so that its
  marker means "done".

After any run, ``<logging_dir>/stats.json`` holds the stats of *every* completed rank, also the ones finished by an
earlier, interrupted run (datatrove's local executor would only merge the ranks it ran itself).
"""

from __future__ import annotations

import os
import subprocess
import time

from datatrove.executor import LocalPipelineExecutor
from datatrove.executor.base import PipelineExecutor
from datatrove.executor.ray import RayPipelineExecutor
from datatrove.executor.slurm import SlurmPipelineExecutor
from datatrove.pipeline.readers.base import BaseReader
from datatrove.utils.stats import PipelineStats

from proofpile import console
from proofpile.config import EXECUTOR_KINDS as KINDS
from proofpile.config import ConfigError, StageConfig
from proofpile.processes import ends_its_processes_on_failure
from proofpile.stats import completed_ranks_stats


def merge_rank_stats(executor: PipelineExecutor) -> PipelineStats:
    """Write ``stats.json`` (the file the report reads) from every completed rank's stats."""
    merged = completed_ranks_stats(executor.logging_dir)
    with executor.logging_dir.open("stats.json", "wt") as f:
        merged.save_to_disk(f)
    return merged


class LocalExecutor(LocalPipelineExecutor):
    """datatrove's local executor whose ``stats.json`` also counts the ranks an earlier run completed, which
    ends every process it started when a rank fails (``proofpile.processes``), and whose rank processes log to
    their files, not the terminal (``proofpile.console``)."""

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        console.quiet()  # in this process: a pool worker does not inherit the CLI's logging setup
        return super()._run_for_rank(rank, local_rank, node_rank)

    def run(self):
        if self.start_method == "forkserver" and self.workers > 1:
            # the fork server starts once per process and forks every worker of every pool: with the steps'
            # modules imported there, a worker starts in milliseconds instead of importing them again (each stage
            # of several pipelines paid ~0.5 s of CPU per worker per pipeline)
            import multiprocess

            modules = {"datatrove.executor.base"} | {type(step).__module__ for step in self.pipeline}
            multiprocess.get_context("forkserver").set_forkserver_preload(sorted(modules))
        with ends_its_processes_on_failure():
            super().run()
        return merge_rank_stats(self)


class RayExecutor(RayPipelineExecutor):
    """datatrove's Ray executor, connected to ``ray.address`` or ``RAY_ADDRESS`` (else a local Ray)."""

    def __init__(self, *args, address: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.address = address

    def run(self):
        import ray

        if not ray.is_initialized():
            ray.init(address=self.address or os.environ.get("RAY_ADDRESS"))
        super().run()
        return merge_rank_stats(self)


class WaitingSlurmExecutor(SlurmPipelineExecutor):
    """datatrove's Slurm executor, but ``run()`` on the submitting machine returns only when the array job has left
    the queue, and raises if ranks are still incomplete then (rerunning the stage resubmits only those)."""

    def __init__(self, *args, poll_seconds: float = 60, **kwargs):
        super().__init__(*args, **kwargs)
        self.poll_seconds = poll_seconds

    def run(self):
        if "SLURM_ARRAY_TASK_ID" in os.environ:  # inside the array job: run our ranks
            return super().run()
        self.launch_job()
        while self.job_id not in (None, -1) and _slurm_job_queued(str(self.job_id)):
            time.sleep(self.poll_seconds)
        missing = self.get_incomplete_ranks(skip_completed=True)
        if missing:
            raise RuntimeError(f"slurm job {self.job_id} ended with {len(missing)} incomplete ranks {missing[:20]}; "
                               f"see {self.slurm_logs_folder}; rerun the stage to run only those")
        return merge_rank_stats(self)


def _slurm_job_queued(job_id: str) -> bool:
    out = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%i"], capture_output=True, text=True)
    return bool(out.stdout.strip())


def _show_progress(pipeline: list) -> None:
    """``progress: true``: readers show per-file and per-document progress bars (tqdm, on stderr)."""
    for step in pipeline:
        if isinstance(step, BaseReader):
            step.file_progress = True
            step.doc_progress = True


def build_executor(cfg: StageConfig, pipeline: list, logging_dir: str, tasks: int | None = None,
                   workers: int | None = None) -> PipelineExecutor:
    ex = cfg.executor
    kind = ex.kind
    tasks = tasks or ex.tasks
    workers = workers or ex.workers or min(tasks, 2)
    if ex.progress:
        _show_progress(pipeline)
    options = ex.options()
    if kind == "local":
        return LocalExecutor(pipeline, tasks=tasks, workers=min(workers, tasks), logging_dir=logging_dir,
                             start_method=ex.start_method)
    if kind == "spark":
        from proofpile.spark import SparkPipelineExecutor

        return SparkPipelineExecutor(pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir,
                                     app_name=options.pop("app_name", f"proofpile-{cfg.stage}"), **options)
    if kind == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise ConfigError("executor kind 'ray' needs the optional package ray: pip install 'ray[default]' "
                              "(and a running cluster: ray start --head, or RAY_ADDRESS)") from None
        return RayExecutor(pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir, **options)
    if kind == "slurm":
        missing = [k for k in ("partition", "time") if k not in options]
        if missing:
            raise ConfigError(f"executor kind 'slurm' needs executor.slurm.{' and '.join(missing)}")
        options.setdefault("job_name", f"proofpile-{cfg.stage}")
        return WaitingSlurmExecutor(pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir, **options)
    raise ConfigError(f"executor kind {kind!r} is not available (known: {', '.join(KINDS)})")
