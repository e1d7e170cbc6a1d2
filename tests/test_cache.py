"""The build cache: entries are stamped when used, and entries of a kind unused for a month are removed when
another is used (old decontamination indexes and MathScore models pile up with every input or code change)."""

import os
import time
from pathlib import Path

from proofpile.cache import UNUSED_DAYS, mark_used, prune
from proofpile.decontam.benchmarks import Benchmark

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "proofpile" / "samples" / "benchmarks"


def _age(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_prune_removes_only_entries_unused_for_longer_than_the_limit(tmp_path):
    (tmp_path / "old-index").mkdir()
    (tmp_path / "old-index" / "a.npy").write_bytes(b"x")
    (tmp_path / "old-model.bin").write_bytes(b"x")
    (tmp_path / "recent-index").mkdir()
    (tmp_path / "used-again").mkdir()
    for name, days in (("old-index", UNUSED_DAYS + 1), ("old-model.bin", UNUSED_DAYS + 1),
                       ("recent-index", UNUSED_DAYS - 1), ("used-again", UNUSED_DAYS + 1)):
        _age(tmp_path / name, days)
    mark_used(tmp_path / "used-again")
    assert prune(tmp_path) == ["old-index", "old-model.bin"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recent-index", "used-again"]
    assert prune(tmp_path / "missing") == []  # no cache of that kind yet


def test_using_a_decontam_index_stamps_it_and_prunes_stale_ones(tmp_path, monkeypatch):
    from proofpile.decontam.ngrams import ensure_index

    monkeypatch.setenv("PROOFPILE_CACHE", str(tmp_path / "cache"))
    benchmarks = [Benchmark("math", str(SAMPLES / "math-test.jsonl"), ("problem", "solution"))]
    folder, _ = ensure_index(benchmarks, tmp_path / "own")
    stale, _ = ensure_index(benchmarks, tmp_path / "own", n=12)  # other settings: another index
    _age(Path(folder), UNUSED_DAYS + 5)
    _age(Path(stale), UNUSED_DAYS + 5)
    assert ensure_index(benchmarks, tmp_path / "own")[0] == folder  # used: stamped, kept
    assert [p.name for p in (tmp_path / "cache" / "decontam-index").iterdir()] == [Path(folder).name]
    assert time.time() - Path(folder).stat().st_mtime < 3600


def test_using_the_mathscore_cache_prunes_stale_models(tmp_path, monkeypatch):
    from proofpile.web import mathscore

    monkeypatch.setenv("PROOFPILE_CACHE", str(tmp_path / "cache"))
    kind = tmp_path / "cache" / "mathscore"
    kind.mkdir(parents=True)
    for name in ("0" * 64 + ".bin", "0" * 64 + ".bin.json"):  # a model of other training data, long unused
        (kind / name).write_bytes(b"{}")
        _age(kind / name, UNUSED_DAYS + 1)
    train = PROJECT / "filters" / "web" / "mathscore-train.jsonl"
    mathscore.ensure_default_model(str(train), tmp_path / "root" / "mathscore.bin")
    names = sorted(p.name for p in kind.iterdir())
    assert len(names) == 2 and not any(n.startswith("0" * 64) for n in names)
