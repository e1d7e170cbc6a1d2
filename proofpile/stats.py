"""The one reader of datatrove's stats files, for every summary and report that counts documents.

datatrove writes a pipeline's stats as a JSON list with one ``{"name", "time_stats", "stats"}`` per step (the
merged ``<logging_dir>/stats.json``, and ``stats/NNNNN.json`` per rank). ``MetricStats.to_dict`` writes a counter
as a plain number when it was only ever incremented by 1 (or is 0: ``0``), and as ``{"total": ..., "n": ...,
"mean": ...}`` otherwise -- so a reader must accept both.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from datatrove.io import DataFolder, get_datafolder
from datatrove.utils.stats import MetricStats, PipelineStats, Stats

# per-document measurements, not counts of documents (their totals are sums of lengths)
MEASUREMENTS = ("doc_len", "doc_len_tokens")


def counter_total(value) -> float:
    """The total of one counter as datatrove writes it: a number, or a dict with ``total``."""
    if isinstance(value, dict):
        value = value.get("total", 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return int(value) if float(value).is_integer() else value


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def completed_ranks_stats(logging_dir: DataFolder | str | Path) -> PipelineStats:
    """The sum of ``stats/NNNNN.json`` over every rank with a completion file: the stats of a stage's finished work,
    also the ranks an earlier, interrupted run completed. Unreadable rank files count as absent."""
    folder = logging_dir if isinstance(logging_dir, DataFolder) else get_datafolder(str(logging_dir))
    merged = PipelineStats()
    if not folder.isdir("stats"):
        return merged
    for name in sorted(folder.list_files("stats", glob_pattern="*.json")):
        rank = name.rsplit("/", 1)[-1].removesuffix(".json")
        if not folder.isfile(f"completions/{rank}"):
            continue
        try:
            with folder.open(name, "rt") as f:
                merged += PipelineStats.from_json(json.load(f))
        except (OSError, ValueError, TypeError, KeyError):
            continue
    return merged


def load_steps(location: str | Path) -> list[dict] | None:
    """The steps of a pipeline's stats: ``location`` is a ``stats.json`` or its logging dir. Without a merged
    ``stats.json`` (a run still going or killed), the completed ranks are summed. None if nothing."""
    location = Path(location)
    stats_file = location if location.suffix == ".json" else location / "stats.json"
    data = _read_json(stats_file) if stats_file.is_file() else None
    if isinstance(data, list):
        return data
    if not stats_file.parent.is_dir():
        return None
    merged = completed_ranks_stats(stats_file.parent)
    return json.loads(merged.to_json()) if merged.stats else None


def step_name(step: dict) -> str:
    """A step's name without datatrove's type prefix (``"🔻 - FILTER: 🦠 n-gram"`` -> ``"🦠 n-gram"``)."""
    return str(step.get("name", "?")).split(": ", 1)[-1]


def step_counters(step: dict) -> dict[str, float]:
    """Every counter of one step as its total (measurements like ``doc_len`` left out)."""
    return {k: counter_total(v) for k, v in (step.get("stats") or {}).items() if k not in MEASUREMENTS}


def step_totals(location: str | Path) -> dict[str, dict[str, float]]:
    """{step name: {counter: total}}; steps of the same name (chained readers) are added up. Empty if absent."""
    totals: dict[str, dict[str, float]] = {}
    for step in load_steps(location) or []:
        into = totals.setdefault(step_name(step), {})
        for key, value in step_counters(step).items():
            into[key] = into.get(key, 0) + value
    return totals


def totals(location: str | Path) -> dict[str, float]:
    """{counter: total} summed over all the pipeline's steps."""
    out: dict[str, float] = {}
    for counters in step_totals(location).values():
        for key, value in counters.items():
            out[key] = out.get(key, 0) + value
    return out


def add_values(stats: Stats, label: str, values) -> None:
    """``stat_update(label, value=v)`` for every v of ``values`` (a list or an array) with one merge instead of a
    call per document: the same total, count, min and max (integers stay integers), and mean and variance up to
    the last bits."""
    if len(values):
        stats[label] = stats[label] + _summary(np.asarray(values))


def add_counts(stats: Stats, tally: dict[str, int]) -> None:
    """``stat_update(label)`` ``n`` times for each ``label: n`` of ``tally``, with one merge each: a counter of
    ones has total = n = count, mean, min and max 1, variance 0 (written as the same plain number)."""
    for label, n in tally.items():
        if n > 0:
            stats[label] = stats[label] + MetricStats(total=n, n=n, mean=1.0, min=1, max=1)


def add_times(stats: Stats, times) -> None:
    """``stats.time_stats`` as if each of ``times`` had been timed by ``track_time()`` (one document each)."""
    if not len(times):
        return
    timing = stats.time_stats
    merged = _summary(np.asarray(times))
    if timing.n:  # already timed by other code
        merged = MetricStats(**{k: getattr(timing, k) for k in _SUMMARY_FIELDS}) + merged
    for k in _SUMMARY_FIELDS:
        setattr(timing, k, getattr(merged, k))


_SUMMARY_FIELDS = ("total", "n", "mean", "min", "max", "_running_variance")


def _summary(values: np.ndarray) -> MetricStats:
    mean = float(values.mean())
    return MetricStats(total=values.sum().item(), n=len(values), mean=mean, min=values.min().item(),
                       max=values.max().item(), _running_variance=float(((values - mean) ** 2).sum()))
