"""Running a stage's datatrove ranks as Spark tasks (datatrove has no Spark executor).

``SparkPipelineExecutor.run()`` lists the ranks without a completion file, parallelizes them with one partition per
rank and calls ``PipelineExecutor._run_for_rank(rank)`` inside each Spark task: the same code path as datatrove's
local executor, so outputs are byte-identical, completion files are written by the tasks themselves, and a rerun
after a crash (of a task, an executor or the driver) runs only the ranks that did not finish.

A rank that raises is reported, not retried by us: the other ranks still finish and are marked complete, then
``run()`` raises naming the failed ranks; rerunning the stage runs only those. (Spark's own task retries,
``spark.task.maxFailures``, still cover lost executors.)

The session: under ``spark-submit`` (or any process that already has a session) that session is used and
``spark.master`` comes from the submit command; otherwise a session is started with ``executor.spark.master``
(default ``local[<workers>]``) and ``executor.spark.conf``. Workers must be able to import proofpile and read and
write the data root, i.e. the data root is on a shared filesystem (NFS, or an fsspec URL such as s3://) on a
cluster.
"""

from __future__ import annotations

import os
import sys
import traceback

from datatrove.executor.base import DistributedEnvVars, PipelineExecutor
from datatrove.utils.logging import logger

from proofpile import console
from proofpile.executors import merge_rank_stats


def spark_session(master: str | None = None, app_name: str = "proofpile", conf: dict | None = None):
    """The active Spark session, or a new one on ``master``."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        if master and active.sparkContext.master != master:
            logger.warning(f"using the active Spark session on {active.sparkContext.master} (config says {master})")
        return active
    if "PYSPARK_GATEWAY_PORT" in os.environ:  # launched by spark-submit: its --master and --conf apply
        session = SparkSession.builder.appName(app_name).getOrCreate()
        logger.info(f"Spark: using spark-submit's session on {session.sparkContext.master}")
        return session
    master = master or "local[1]"
    if master.startswith("local"):
        # Python workers must be this interpreter (the venv with datatrove), not whatever `python3` is on PATH
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in (conf or {}).items():
        builder = builder.config(key, str(value))
    logger.info(f"Spark: starting a session on {master}")
    return builder.getOrCreate()


def _run_rank_task(executor: "SparkPipelineExecutor", rank: int) -> tuple[int, str | None]:
    """Body of one Spark task: run one rank; (rank, None) or (rank, the error's traceback)."""
    try:
        console.quiet()  # the rank's log goes to its file; a local[N] worker's stderr is the driver's terminal
        executor._run_for_rank(rank)
        return rank, None
    except Exception:
        return rank, traceback.format_exc()


class SparkPipelineExecutor(PipelineExecutor):
    """Runs a datatrove pipeline with one Spark task per rank.

    Args:
        pipeline: datatrove steps (they are pickled to the Spark workers)
        tasks: number of ranks (the world size; fixes the output sharding)
        workers: ranks run at once when this executor starts its own ``local[...]`` session; on a cluster the
            cluster's cores decide
        logging_dir: datatrove logging dir (completions/, stats/, logs/, stats.json)
        master: Spark master URL for a session we start (``local[2]``, ``spark://host:7077``, ``yarn``,
            ``k8s://https://...``); ignored when a session is already active (spark-submit)
        app_name: Spark application name
        conf: extra Spark configuration for a session we start (``spark.executor.memory``: ...)
    """

    def __init__(self, pipeline: list, tasks: int = 1, workers: int = -1, logging_dir=None,
                 skip_completed: bool = True, master: str | None = None, app_name: str = "proofpile",
                 conf: dict | None = None, randomize_start_duration: int = 0):
        super().__init__(pipeline, logging_dir, skip_completed, randomize_start_duration)
        self.tasks = tasks
        self.workers = workers if workers > 0 else tasks
        self.master = master or f"local[{self.workers}]"
        self.app_name = app_name
        self.conf = dict(conf or {})

    @property
    def world_size(self) -> int:
        return self.tasks

    def get_distributed_env(self, node_rank: int = -1) -> DistributedEnvVars:
        return DistributedEnvVars(datatrove_node_ips="localhost", datatrove_cpus_per_task="1",
                                  datatrove_mem_per_cpu="-1", datatrove_gpus_on_node="-1",
                                  datatrove_executor="SPARK")

    def run(self):
        ranks = self.get_incomplete_ranks()
        if not ranks:
            logger.info(f"Not doing anything as all {self.world_size} tasks have already been completed.")
            return merge_rank_stats(self)
        if skipped := self.world_size - len(ranks):
            logger.info(f"Skipping {skipped} already completed tasks")
        self.save_executor_as_json()
        # the session stays up for the rest of the process: the next stage of `proofpile all` reuses it
        sc = spark_session(self.master, self.app_name, self.conf).sparkContext
        if sc.getConf().get("spark.speculation", "false").lower() == "true":
            # two attempts of one rank would write the same output files at once
            raise RuntimeError("spark.speculation=true would run ranks twice at once; set it to false")
        sc.setJobDescription(f"{self.app_name}: {len(ranks)}/{self.world_size} ranks")
        executor = self
        results = (sc.parallelize(ranks, numSlices=len(ranks))
                   .map(lambda rank: _run_rank_task(executor, rank))
                   .collect())
        failed = sorted((rank, err) for rank, err in results if err)
        stats = merge_rank_stats(self)
        if failed:
            for rank, err in failed:
                logger.error(f"rank {rank} failed:\n{err}")
            raise RuntimeError(f"{len(failed)} of {len(ranks)} ranks failed: {[r for r, _ in failed]} "
                               f"(logs in {self.logging_dir.resolve_paths('logs')}); rerun to run only those")
        logger.success(stats.get_repr(f"All {self.world_size} tasks"))
        return stats
