"""Deterministic splits: a document's split depends on hash(seed, id) only."""

import random

import pytest
from datatrove.data import Document

from proofpile.decontam.splits import SplitAssigner, split_of


def assign(step, ids, subset="open-web-math"):
    docs = [Document(text="t", id=i, metadata={"subset": subset}) for i in ids]
    return {d.id: d.metadata["split"] for d in step.run(iter(docs))}


def test_fractions_are_close_to_the_configured_ones():
    ids = [f"doc-{i}" for i in range(200_000)]
    got = assign(SplitAssigner(seed=0), ids)
    for split, expected in (("validation", 0.005), ("test", 0.005)):
        share = sum(s == split for s in got.values()) / len(ids)
        assert abs(share - expected) < 0.001, (split, share)


def test_adding_documents_does_not_move_existing_ones():
    old = [f"https://example.org/{i}" for i in range(5000)]
    new = [f"https://example.net/{i}" for i in range(5000)]
    before = assign(SplitAssigner(seed=7, validation=0.1, test=0.1), old)
    mixed = old + new
    random.Random(1).shuffle(mixed)  # other positions, other shards
    after = assign(SplitAssigner(seed=7, validation=0.1, test=0.1), mixed)
    assert all(after[i] == before[i] for i in old)
    assert {"train", "validation", "test"} == set(before.values())


def test_seed_changes_the_assignment_and_per_subset_fractions_apply():
    ids = [f"d{i}" for i in range(2000)]
    assert assign(SplitAssigner(seed=1, validation=0.2, test=0.2), ids) != \
        assign(SplitAssigner(seed=2, validation=0.2, test=0.2), ids)
    step = SplitAssigner(seed=0, per_subset={"arxiv": {"validation": 0.0, "test": 1.0}})
    assert set(assign(step, ids, subset="arxiv").values()) == {"test"}
    assert split_of("x", 0, 0.0, 0.0) == "train"


def test_bad_fractions_are_rejected():
    with pytest.raises(ValueError):
        SplitAssigner(validation=0.7, test=0.5)
    with pytest.raises(ValueError):
        SplitAssigner(per_subset={"arxiv": {"test": -0.1}})


def test_stage_keeps_splits_when_documents_are_added(tmp_path):
    """Rerun decontam after more documents arrive: every old document stays in its split."""
    from pathlib import Path

    import orjson
    import zstandard

    from proofpile.config import StageConfig
    from proofpile.stage import atomic_write, run_stage

    project = Path(__file__).resolve().parents[1]

    def write(name, ids):
        path = tmp_path / "dedup" / "arxiv" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        recs = [{"id": i, "text": f"document {i}", "meta": {"subset": "arxiv", "source": "t"}} for i in ids]
        path.write_bytes(zstandard.ZstdCompressor().compress(b"".join(orjson.dumps(r) + b"\n" for r in recs)))

    def splits():
        cfg = StageConfig.load("decontam", project / "pipelines" / "decontam.yaml", data_root=tmp_path,
                               overrides={"executor": {"tasks": 2, "workers": 1},
                                          "decontam": {"splits": {"validation": 0.1, "test": 0.1}}})
        run_stage(cfg)
        out = {}
        for f in (tmp_path / "decontam").rglob("*.jsonl.zst"):
            for line in zstandard.ZstdDecompressor().decompressobj().decompress(f.read_bytes()).splitlines():
                rec = orjson.loads(line)
                assert f.parent.name == rec["meta"]["split"]
                out[rec["id"]] = rec["meta"]["split"]
        return out

    write("00000.jsonl.zst", [f"old-{i}" for i in range(300)])
    atomic_write(tmp_path / "markers" / "dedup.json", b'{"run": 1}')
    before = splits()
    write("00001.jsonl.zst", [f"new-{i}" for i in range(300)])
    atomic_write(tmp_path / "markers" / "dedup.json", b'{"run": 2}')  # upstream changed: the stage reruns
    after = splits()
    assert len(after) == 600 and all(after[i] == s for i, s in before.items())
