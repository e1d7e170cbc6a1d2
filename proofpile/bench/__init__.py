"""Benchmarks: ``python -m proofpile.bench --out bench/results.json`` (``make bench``).

Each module here defines ``run(workdir: Path) -> list[dict]``, returning figures
``{"name", "value", "unit", "baseline", "detail"}`` where ``value`` is a ratio against ``baseline``, both measured
in the same process on the same data. A benchmark that is not built yet is absent, never faked.
"""

from __future__ import annotations

import resource
import time
from contextlib import contextmanager
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SHARED = PROJECT.parent / "shared" / "fixtures"  # real public data beside the project; absent, figures say so
FIGURE_KEYS = ("name", "value", "unit", "baseline", "detail")


def figure(name: str, value: float, unit: str, baseline: str, **detail) -> dict:
    return {"name": name, "value": round(float(value), 4), "unit": unit, "baseline": baseline, "detail": detail}


@contextmanager
def timer():
    """``with timer() as t: ...`` then ``t()`` is the elapsed seconds."""
    start = time.perf_counter()
    end = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def best_of(fn, repeat: int = 3) -> float:
    """The fastest of ``repeat`` timed calls (seconds): the least noisy estimate on a shared machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def best_of_alternating(fns, repeat: int = 5) -> list[float]:
    """The fastest of ``repeat`` timed calls of each of ``fns``, called in turn (a, b, a, b, ...): a stage and its
    baseline timed side by side, so a busy spell on a shared machine slows both rather than one."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [min(spent) for spent in times]


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children: on a machine shared with other work,
    wall time measures the neighbours as much as the code."""
    return sum(r.ru_utime + r.ru_stime for r in map(resource.getrusage, (resource.RUSAGE_SELF,
                                                                          resource.RUSAGE_CHILDREN)))
