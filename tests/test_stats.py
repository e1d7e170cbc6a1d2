"""proofpile.stats reads every counter datatrove writes: plain numbers (a counter only ever incremented by one),
``{"total": ...}`` dicts, zeros, and the per-rank files of an unfinished run."""

import json

import numpy as np
import pytest
from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import LambdaFilter
from datatrove.pipeline.writers import JsonlWriter

from proofpile.batches import sized_batches
from proofpile.stats import add_counts, add_times, add_values, counter_total, load_steps, step_totals, totals


def run_pipeline(tmp_path, docs):
    logs = tmp_path / "logs"
    LocalPipelineExecutor([
        [Document(text=t, id=str(i), metadata={}) for i, t in enumerate(docs)],
        LambdaFilter(lambda d: "keep" in d.text),
        JsonlWriter(str(tmp_path / "out"), output_filename="x/${rank}.jsonl", compression=None),
    ], logging_dir=str(logs), tasks=1, workers=1).run()
    return logs


def test_plain_integer_and_dict_counters(tmp_path):
    logs = run_pipeline(tmp_path, ["keep a", "drop b", "keep c"])
    raw = json.loads((logs / "stats.json").read_text())
    writer = raw[-1]["stats"]
    assert isinstance(writer["x/XXXXX.jsonl"], int)  # what stage.step_totals used to miss
    steps = step_totals(logs / "stats.json")
    assert steps[LambdaFilter.name] == {"total": 3, "forwarded": 2, "dropped": 1}
    assert step_totals(logs)[JsonlWriter.name]["x/XXXXX.jsonl"] == 2  # a logging dir works too
    assert totals(logs)["dropped"] == 1 and "doc_len" not in totals(logs)


def test_counter_shapes():
    assert counter_total(0) == 0 and counter_total(7) == 7 and counter_total({"total": 3.0, "n": 3}) == 3
    assert counter_total({"total": 1.5}) == 1.5 and counter_total("x") == 0 and counter_total(None) == 0


def test_ranks_of_an_unfinished_run_are_summed(tmp_path):
    logs = run_pipeline(tmp_path, ["keep a", "drop b"])
    (logs / "stats.json").unlink()
    assert step_totals(logs)[LambdaFilter.name]["forwarded"] == 1
    (logs / "completions" / "00000").unlink()  # a rank that did not complete is not counted
    assert load_steps(logs) is None and step_totals(logs) == {}
    assert step_totals(tmp_path / "nowhere") == {}


def test_merged_updates_equal_one_update_per_value():
    """add_values / add_counts / add_times (one merge a batch) write what a stat_update or track_time per document
    writes."""
    from datatrove.utils.stats import Stats

    values = [7, 3, 3, 120, 1, 58]
    one_by_one, batched = Stats("a"), Stats("a")
    for v in values:
        one_by_one["tokens"].update(v)
    add_values(batched, "tokens", np.array(values[:2]))
    add_values(batched, "tokens", values[2:])
    add_values(batched, "tokens", np.array([], dtype=np.int64))  # an empty batch changes nothing
    assert batched["tokens"].to_dict() == pytest.approx(one_by_one["tokens"].to_dict())
    assert isinstance(batched["tokens"].to_dict()["total"], int)

    for _ in range(7):
        one_by_one["x"].update(1)
    one_by_one["y"].update(1)
    batched["y"].update(1)  # already counted: folded in one by one
    one_by_one["y"].update(1)
    add_counts(batched, {"x": 7, "y": 1, "z": 0})
    assert batched["x"].to_dict() == 7  # a count stays a plain count, as with stat_update("x")
    assert (batched["x"].to_dict(), batched["y"].to_dict()) == (one_by_one["x"].to_dict(), one_by_one["y"].to_dict())
    assert "z" not in batched.stats

    times = [0.5, 0.25, 1.0]
    for seconds in times:
        one_by_one.time_stats.update(seconds)
    add_times(batched, times)
    assert batched.time_stats.to_dict() == pytest.approx(one_by_one.time_stats.to_dict())


def test_sized_batches_end_at_a_count_or_a_text_size():
    texts = ["aaaa", "bb", "c", "dddddd", "e"]
    assert list(sized_batches(texts, 2, text_of=str)) == [["aaaa", "bb"], ["c", "dddddd"], ["e"]]
    assert list(sized_batches(texts, 10, 5, text_of=str)) == [["aaaa", "bb"], ["c", "dddddd"], ["e"]]
    assert list(sized_batches(texts, 10, 100, text_of=str)) == [texts]
    assert list(sized_batches([], 3)) == []
