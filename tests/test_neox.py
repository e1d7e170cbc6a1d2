"""The GPT-NeoX export, read back by a reader written here from the format's documented layout (not proofpile's)."""

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from helpers import read_mmap_indexed

from proofpile import cli
from proofpile.neox import IndexedWriter, neox_config, neox_dtype
from proofpile.tokens.samples import tokenize_corpus

PROJECT = Path(__file__).resolve().parents[1]
@pytest.fixture(scope="module")
def demo_root(tmp_path_factory) -> Path:
    """The demo's tokenized samples with the demo's manifest stage run on them (pipelines/manifest.yaml)."""
    root = tmp_path_factory.mktemp("neox") / "root"
    tokenize_corpus(root, {"shard_tokens": 3000})  # several shards per subset and split
    code = cli.main(["manifest", "--config", str(PROJECT / "pipelines" / "manifest.yaml"), "--data-root", str(root)])
    assert code == 0
    return root


def arrow_rows(path: Path) -> list[list[int]]:
    with pa.memory_map(str(path)) as f:
        return pa.ipc.open_file(f).read_all().column("input_ids").to_pylist()


def test_demo_manifest_exports_every_token_of_every_document(demo_root):
    manifest = json.loads((demo_root / "manifests" / "demo.json").read_text())
    files = manifest["neox"]["files"]
    pairs = {(s["component"], s["split"]) for s in manifest["shards"]}
    assert {(f["component"], f["split"]) for f in files} == pairs and len(pairs) == 9  # 3 components x 3 splits
    for f in files:
        shards = sorted((s for s in manifest["shards"] if (s["component"], s["split"]) == (f["component"], f["split"])),
                        key=lambda s: s["path"])
        expected = [row for s in shards for row in arrow_rows(demo_root / s["path"])]
        dtype, items, doc_idx = read_mmap_indexed(str(demo_root / f["prefix"]))
        assert dtype == np.uint16  # a 32k vocabulary
        assert [item.tolist() for item in items] == expected
        assert doc_idx.tolist() == list(range(len(expected) + 1))
        assert f["documents"] == len(expected) == sum(s["rows"] for s in shards)
        assert f["tokens"] == sum(map(len, expected))
        assert manifest["tokenizer"]["bos_id"] in {row[0] for row in expected}


def test_manifest_gives_neox_paths_and_weights(demo_root):
    manifest = json.loads((demo_root / "manifests" / "demo.json").read_text())
    config = neox_config(manifest)
    assert config["data_impl"] == "mmap"
    assert config["train_data_paths"] == [f"manifests/neox/demo/{c}-train" for c in
                                          ("algebraic-stack", "arxiv", "open-web-math")]
    assert config["train_data_weights"] == pytest.approx([1 / 7, 2 / 7, 4 / 7])
    assert len(config["valid_data_paths"]) == len(config["valid_data_weights"]) == 3
    assert sum(config["test_data_weights"]) == pytest.approx(1)
    for prefix in config["train_data_paths"] + config["valid_data_paths"] + config["test_data_paths"]:
        assert (demo_root / f"{prefix}.bin").is_file() and (demo_root / f"{prefix}.idx").is_file()


def test_export_is_byte_identical_on_a_rerun(demo_root, tmp_path):
    manifest = json.loads((demo_root / "manifests" / "demo.json").read_text())
    before = {f["prefix"]: (f["bin_sha256"], f["idx_sha256"]) for f in manifest["neox"]["files"]}
    code = cli.main(["manifest", "--config", str(PROJECT / "pipelines" / "manifest.yaml"), "--data-root",
                     str(demo_root), "--force"])
    assert code == 0
    again = json.loads((demo_root / "manifests" / "demo.json").read_text())
    assert {f["prefix"]: (f["bin_sha256"], f["idx_sha256"]) for f in again["neox"]["files"]} == before


def test_dtype_follows_neox_rule_and_int32_pairs_read_back(tmp_path):
    assert neox_dtype(32_000) == np.uint16 and neox_dtype(65_499) == np.uint16
    assert neox_dtype(65_500) == np.int32 and neox_dtype(128_256) == np.int32
    docs = [np.array([1, 100_000, 2]), np.array([1, 70_000, 5, 2]), np.array([1, 2])]
    writer = IndexedWriter(tmp_path / "big", neox_dtype(128_256))
    writer.add(np.concatenate(docs), np.array([len(d) for d in docs]))
    written = writer.close()
    dtype, items, doc_idx = read_mmap_indexed(str(tmp_path / "big"))
    assert dtype == np.int32 and [i.tolist() for i in items] == [d.tolist() for d in docs]
    assert doc_idx.tolist() == [0, 1, 2, 3] and written["tokens"] == 9
    assert not list(tmp_path.glob(".*"))  # no temp file left
