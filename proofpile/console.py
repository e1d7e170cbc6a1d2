"""What a run prints: one line per stage and the report's short summary; everything else goes to the log files.

datatrove's ``add_task_logger`` sends every rank's pipeline listing and per-rank stats to stderr as well as to
``<logging_dir>/logs/task_NNNNN.log`` (1,059 lines on the terminal for the 33-document demo). ``quiet`` keeps the log
files and lets only errors of a rank (and warnings of the main process) through to the terminal. It is applied in the
CLI's process and in every local rank process; ``PROOFPILE_VERBOSE=1`` keeps datatrove's own output.
"""

from __future__ import annotations

import os
import sys

from datatrove.utils import logging as dt_logging
from datatrove.utils.logging import logger

FORMAT = ("{time:YYYY-MM-DD HH:mm:ss.SSS} | <level>{level: <8}</level> | {name}:{function}:{line} - "
          "<level>{message}</level>")


def verbose() -> bool:
    return os.environ.get("PROOFPILE_VERBOSE", "").strip().lower() in ("1", "true", "yes")


def _default_logger() -> None:
    logger.remove()
    logger.add(sys.stderr, level="WARNING", format="<level>{level}</level>: {message}",
               colorize=dt_logging.DATATROVE_COLORIZE_LOGS)


def _task_logger(logging_dir, rank: int, local_rank: int = 0, node_rank: int = -1):
    """datatrove's ``add_task_logger``: the rank's whole log in its file; only its errors on the terminal."""
    logger.remove()
    logfile = logging_dir.open(f"logs/task_{rank:05d}.log", "w")
    prefix = f"[NODE {node_rank}] " if node_rank != -1 else ""
    logger.add(sys.stderr, level="ERROR", format=prefix + FORMAT, colorize=dt_logging.DATATROVE_COLORIZE_LOGS)
    logger.add(logfile, level="DEBUG", format=prefix + FORMAT, colorize=dt_logging.DATATROVE_COLORIZE_LOG_FILES)
    logger.info(f"Launching pipeline for {rank=}")
    return logfile


def quiet() -> None:
    """Route datatrove's per-rank output to the log files (idempotent; a no-op with ``PROOFPILE_VERBOSE=1``)."""
    if verbose():
        return
    import datatrove.executor.base as executor_base

    executor_base.add_task_logger = _task_logger  # called by every executor's _run_for_rank
    dt_logging.setup_default_logger = _default_logger  # what close_task_logger restores after a rank
    _default_logger()


def line(message: str) -> None:
    """One line for the person at the terminal (stderr, beside the warnings; stdout stays for data)."""
    print(message, file=sys.stderr, flush=True)


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


