"""The whole code stage through the CLI: samples in, contract shards and the language table out; exact dedup
within a language across ranks; byte-identical reruns."""

import json
from pathlib import Path

import pytest
from test_code_helpers import PROJECT

from proofpile.cli import main
from proofpile.contract import ContractReader

MATH_PY = "import numpy as np\nprint(np.pi)\n"


def _read(root: Path):
    reader = ContractReader(str(root / "code"))
    return [doc for f in sorted(reader.data_folder.list_files(glob_pattern="*.jsonl.zst")) for doc in reader.read_file(f)]


def _shards(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "code").glob("*.jsonl.zst"))}


@pytest.mark.slow
def test_stage_on_samples(tmp_path, monkeypatch):
    monkeypatch.chdir(PROJECT)
    root = tmp_path / "root"
    assert main(["code", "--config", "pipelines/code.yaml", "--data-root", str(root)]) == 0
    docs = _read(root)
    ids = [d.id for d in docs]
    assert len(ids) == len(set(ids)) == 23
    assert "proofpile-samples:python/lanczos.py" in ids and "proofpile-samples:python/lanczos_copy.py" not in ids
    for d in docs:
        assert d.metadata["subset"] == "algebraic-stack" and d.metadata["source"] == "dir"
        assert d.metadata["path"] and d.metadata["repo"] == "proofpile-samples"
        assert not any(k.startswith("_") for k in d.metadata)
    table = json.loads((root / "logs/code/languages.json").read_text())
    langs = table["languages"]
    assert len(langs) == 17 and all(v["files"] >= 1 for v in langs.values())
    assert langs["Python"] == {"files": 2, "bytes": sum(len(d.text.encode()) for d in docs if d.metadata["lang"] == "Python"),
                               "read": 5, "duplicates": 1,
                               "dropped": {"python_json_like": 1, "python_no_math_import": 1}}
    assert table["total"]["files"] == 23
    assert table["drops"]["duplicate"] == 1 and table["drops"]["vendored_dir"] == 3
    assert table["other_languages"] == {"ANTLR": 1, "G-code": 1, "IDL": 1, "Objective-C": 1, "Perl": 1, "Prolog": 1,
                                        "QMake": 1, "Verilog": 1}
    stats = json.loads((root / "logs/code/dedup/stats.json").read_text())
    lang_stats = next(s["stats"] for s in stats if s["name"].endswith("🔣 Language table"))
    assert lang_stats["lang/C++/files"]["total"] == 2
    assert not (root / "logs/code/partitions").exists()
    # a rerun from scratch is byte-identical
    first = _shards(root)
    assert main(["code", "--config", "pipelines/code.yaml", "--data-root", str(root), "--force"]) == 0
    assert _shards(root) == first


@pytest.mark.slow
def test_dedup_is_global_across_ranks(tmp_path, monkeypatch):
    monkeypatch.chdir(PROJECT)
    src = tmp_path / "src"
    for rel in ("a/x.py", "b/x.py", "c/x.py"):  # listed as items 0, 1, 2: rank 0, rank 1, rank 0
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(MATH_PY)
    # the same text in two languages is two documents
    (src / "p.agda").write_text("-- a postulate\npostulate A : Set\n")
    (src / "p.idr").write_text("-- a postulate\npostulate A : Set\n")
    cfg = tmp_path / "code.yaml"
    cfg.write_text(f"include: {PROJECT}/pipelines/code.yaml\ncode:\n  sources:\n    - {{kind: dir, path: {src}, name: t}}\n")
    kept = {}
    for tasks in (1, 3):
        root = tmp_path / f"root{tasks}"
        assert main(["code", "--config", str(cfg), "--data-root", str(root), "--tasks", str(tasks)]) == 0
        kept[tasks] = sorted(d.id for d in _read(root))
    assert kept[1] == kept[3] == ["t:a/x.py", "t:p.agda", "t:p.idr"]


def test_steps_pickle(tmp_path):
    """Steps go to forkserver workers and Spark tasks: they must pickle, with everything they loaded."""
    import pickle

    from proofpile.code.dedup import ExactDedupWithinLanguage, LanguageStats, PartitionByContent
    from proofpile.config import StageConfig
    from proofpile.stages.code import filter_steps

    cfg = StageConfig.load("code", PROJECT / "pipelines" / "code.yaml", data_root=tmp_path)
    steps = filter_steps(cfg) + [PartitionByContent(2), ExactDedupWithinLanguage(str(tmp_path)), LanguageStats()]
    copies = pickle.loads(pickle.dumps(steps))
    assert [type(s) for s in copies] == [type(s) for s in steps]
    assert copies[1].table.extensions == steps[1].table.extensions
