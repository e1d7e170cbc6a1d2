"""Benchmarks: ``python -m proofpile.bench --out bench/results.json`` (``make bench``).

Each module here defines ``run(workdir: Path) -> list[dict]``, returning figures
``{"name", "value", "unit", "baseline", "detail"}`` where ``value`` is a ratio against ``baseline``, both measured
in the same process on the same data. A benchmark that is not built yet is absent, never faked.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

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
