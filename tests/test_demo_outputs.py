"""The demo's outputs as a new user meets them: `make all` says little and where to look, and the documents, the
token shards and the NeoX export load with the tools trainers and dataset people already use."""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from helpers import read_mmap_indexed

PROJECT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, list[str]]:
    """A fresh `make all` of the demo: (data root, the lines it printed)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = tmp_path_factory.mktemp("demo") / "out"
    run = subprocess.run(["make", "--no-print-directory", "-C", str(PROJECT), "all", f"ROOT={root}"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    return root, (run.stdout + run.stderr).splitlines()


def test_make_all_prints_a_line_per_stage_and_ends_with_the_report_and_manifests(demo):
    root, lines = demo
    assert len(lines) <= 40, "\n".join(lines)
    assert not [line for line in lines if "Stats: Task" in line or "PIPELINE" in line]  # per-rank stats: in the logs
    for stage in ("web", "code", "arxiv", "proofsteps", "dedup", "decontam", "tokenize", "manifest", "report"):
        assert sum(line.startswith(f"[{stage}] done in") for line in lines) == 1, stage
    manifests = sorted((root / "manifests").glob("*.json"))
    assert lines[-1 - len(manifests)].endswith(str(root / "reports" / "report.html"))
    assert [line.split()[-1] for line in lines[-len(manifests):]] == [str(m) for m in manifests]
    assert list((root / "logs" / "web" / "logs").glob("task_*.log"))  # where the per-rank output went


def test_demo_documents_load_with_datasets_polars_and_duckdb(demo, tmp_path):
    import datasets
    import duckdb
    import polars as pl

    root, _ = demo
    files = sorted(str(p) for p in (root / "decontam").glob("*/*/*.jsonl.zst"))
    subsets = {Path(f).parts[-3] for f in files}
    assert subsets == {"arxiv", "open-web-math", "algebraic-stack"}
    n = sum(1 for f in files for _ in _lines(f))
    ds = datasets.load_dataset("json", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == n and {r["meta"]["subset"] for r in ds} == subsets
    assert ds.features["meta"]["warc_offset"].dtype == "int64"
    frame = pl.scan_ndjson(files).collect()
    assert frame.height == n
    rows = duckdb.sql(f"select meta.subset, count(*) from read_json({files!r}) group by 1 order by 1").fetchall()
    assert sum(c for _, c in rows) == n and {s for s, _ in rows} == subsets


def test_demo_token_shards_scan_with_polars_and_pyarrow_dataset(demo):
    import polars as pl
    import pyarrow.dataset as pds

    root, _ = demo
    manifest = json.loads((root / "manifests" / "demo.json").read_text())
    folder = root / "tokenized" / manifest["tokenizer"]["id"]
    dataset = pds.dataset(sorted(str(p) for p in folder.glob("*/*/shard-*.arrow")), format="arrow")
    assert dataset.count_rows() == sum(s["rows"] for s in manifest["shards"])
    tokens = pl.scan_ipc(str(folder / "*" / "*" / "shard-*.arrow")).select(
        pl.col("input_ids").list.len().sum()).collect().item()
    assert tokens == sum(s["tokens"] for s in manifest["shards"])


def test_demo_manifest_neox_export_reads_back_every_token(demo):
    root, _ = demo
    manifest = json.loads((root / "manifests" / "demo.json").read_text())
    assert manifest["neox"]["train_data_paths"] and manifest["neox"]["train_data_weights"]
    assert sum(manifest["neox"]["train_data_weights"]) == pytest.approx(1)
    for f in manifest["neox"]["files"]:
        shards = sorted((s for s in manifest["shards"] if (s["component"], s["split"]) == (f["component"], f["split"])),
                        key=lambda s: s["path"])
        expected = []
        for s in shards:
            with pa.memory_map(str(root / s["path"])) as src:
                expected += pa.ipc.open_file(src).read_all().column("input_ids").to_pylist()
        dtype, items, _ = read_mmap_indexed(str(root / f["prefix"]))
        assert dtype == np.uint16 and [i.tolist() for i in items] == expected


def _lines(path: str):
    import zstandard

    with open(path, "rb") as raw:
        data = zstandard.ZstdDecompressor().decompressobj().decompress(raw.read())
    return [line for line in data.splitlines() if line.strip()]


def test_demo_decontam_removes_the_notebook_that_solves_a_math_test_problem(demo):
    """A notebook quoting a MATH test problem is code: the code stage keeps it, decontamination removes it."""
    root, _ = demo
    flagged = [json.loads(line) for line in (root / "decontam" / "flagged.jsonl").read_text().splitlines()]
    assert [(f["doc_id"], f["subset"], f["benchmark"], f["action"]) for f in flagged] == [
        ("proofpile-samples:jupyter/homework_remainder.ipynb", "algebraic-stack", "math", "drop")]
    kept = {json.loads(line)["id"] for f in (root / "decontam").glob("*/*/*.jsonl.zst") for line in _lines(str(f))}
    assert flagged[0]["doc_id"] not in kept
