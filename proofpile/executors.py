"""Executors: how a stage's datatrove ranks are run.

``executor: {kind: local|spark|ray|slurm, tasks: N, workers: M, ...}`` in a config. Every kind runs the same
``PipelineExecutor._run_for_rank`` per rank, so datatrove's completion files skip finished ranks everywhere.
"""

from __future__ import annotations

from datatrove.executor import LocalPipelineExecutor

from proofpile.config import ConfigError, StageConfig


def build_executor(cfg: StageConfig, pipeline: list, logging_dir: str, tasks: int | None = None,
                   workers: int | None = None):
    ex = cfg.executor
    kind = ex.get("kind", "local")
    tasks = int(tasks or ex.get("tasks", 1))
    workers = int(workers or ex.get("workers", min(tasks, 2)))
    if kind == "local":
        return LocalPipelineExecutor(pipeline, tasks=tasks, workers=min(workers, tasks), logging_dir=logging_dir,
                                     start_method=ex.get("start_method", "forkserver"))
    raise ConfigError(f"executor kind {kind!r} is not available (known: local)")
