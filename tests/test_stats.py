"""proofpile.stats reads every counter datatrove writes: plain numbers (a counter only ever incremented by one),
``{"total": ...}`` dicts, zeros, and the per-rank files of an unfinished run."""

import json

from datatrove.data import Document
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import LambdaFilter
from datatrove.pipeline.writers import JsonlWriter

from proofpile.stats import counter_total, load_steps, step_totals, totals


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
