"""Hyperscan databases are compiled once per cache and loaded after; a cached copy that does not load is compiled
again and replaced; without a writable cache they are compiled in every process."""

from pathlib import Path

import hyperscan

from proofpile.hyperscan_db import compile_database

EXPRESSIONS = [rb"\\frac\{", rb"mathjax", rb"^[ \t]*share on"]
FLAGS = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_MULTILINE


def _matches(db, scratch, data: bytes) -> list[int]:
    found = []
    db.scan(data, match_event_handler=lambda i, start, end, flags, ctx: found.append(i), scratch=scratch)
    return sorted(found)


PAGE = b"<script src='MathJax.js'></script>\n  Share on X\n$\\frac{1}{2}$"


def test_compiled_once_then_loaded_and_a_damaged_copy_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("PROOFPILE_CACHE", str(tmp_path))
    assert _matches(*compile_database(EXPRESSIONS, FLAGS), PAGE) == [0, 1, 2]
    (cached,) = (tmp_path / "hyperscan").iterdir()
    stored = cached.read_bytes()
    assert _matches(*compile_database(EXPRESSIONS, FLAGS), PAGE) == [0, 1, 2]
    assert cached.read_bytes() == stored
    cached.write_bytes(stored[: len(stored) // 2])  # damaged: compiled again, the copy replaced
    assert _matches(*compile_database(EXPRESSIONS, FLAGS), PAGE) == [0, 1, 2]
    assert cached.read_bytes() == stored
    assert _matches(*compile_database(EXPRESSIONS[:2], FLAGS), PAGE) == [0, 1]  # other patterns: another copy
    assert len(list((tmp_path / "hyperscan").iterdir())) == 2


def test_without_a_writable_cache_it_is_compiled_in_process(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("PROOFPILE_CACHE", str(blocker))
    assert _matches(*compile_database(EXPRESSIONS, FLAGS), PAGE) == [0, 1, 2]
    assert not Path(str(blocker) + "/hyperscan").exists()


def test_a_database_pickles_without_its_compiled_copy_and_scans_after(tmp_path, monkeypatch):
    """Steps carry a ``Database`` to their workers: pickled, it holds its expressions only and compiles (or loads)
    on its first scan there."""
    import pickle

    from proofpile.hyperscan_db import Database

    monkeypatch.setenv("PROOFPILE_CACHE", str(tmp_path))
    db = Database(EXPRESSIONS, FLAGS)
    found = []
    db.scan(PAGE, lambda i, start, end, flags, ctx: ctx.append(i), found)
    copy = pickle.loads(pickle.dumps(db))
    assert copy._compiled is None and sorted(found) == [0, 1, 2]
    again = []
    copy.scan(PAGE, lambda i, start, end, flags, ctx: ctx.append(i), again)
    assert sorted(again) == [0, 1, 2]
