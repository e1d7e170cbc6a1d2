"""The scaling benchmark's inputs (proofpile.bench.scale) are what its figures say they are: each stage, run with
the benchmark's own overrides on a small build, reads every unit the builder reports, keeps real documents and drops
what the builder planted to be dropped (exact copies, PDF-only papers, miniF2F theorems). Skipped when ../shared is
absent (the builders read its real paper and InfoTree export)."""

import json
from pathlib import Path

import pytest
from helpers import read_docs, stage_stats

from proofpile.bench import scale
from proofpile.config import StageConfig
from proofpile.stage import run_stage

pytestmark = [pytest.mark.slow,  # whole stages
              pytest.mark.skipif(not (scale.FIXTURES / "arxiv").is_dir(),
                                 reason="../shared/fixtures is absent: the scaling inputs are built from it")]


def _run(stage: str, root: Path) -> None:
    overrides = scale._overrides(root, stage)
    overrides.pop("tokenizer", None)
    cfg = StageConfig.load(stage, scale.PROJECT / "pipelines" / f"{stage}.yaml", data_root=root, overrides=overrides)
    run_stage(cfg, force=True)


def test_code_tree_is_read_whole_and_its_exact_copies_dropped(tmp_path):
    built = scale.write_code_tree(tmp_path / "inputs", 400, seed=3)
    assert built["files"] == sum(1 for p in (tmp_path / "inputs").rglob("*") if p.is_file()) == 400
    _run("code", tmp_path)
    table = json.loads((tmp_path / "logs" / "code" / "languages.json").read_text())
    docs = read_docs(tmp_path / "code")
    assert len(docs) == table["total"]["files"]
    assert len({d.metadata["lang"] for d in docs}) >= 12  # the samples' languages, not one of them
    assert table["total"]["files"] + sum(table["drops"].values()) == built["files"]  # each file kept or dropped
    # exact copies of a kept file are duplicates; near copies differ, so they are not
    assert 0 < table["drops"]["duplicate"] <= built["exact_copies"]


def test_arxiv_tars_yield_every_latex_paper(tmp_path):
    built = scale.write_arxiv_tars(tmp_path / "inputs", 300, seed=3)
    assert (built["papers"], built["pdf_only"]) == (297, 3)
    _run("arxiv", tmp_path)
    docs = read_docs(tmp_path / "arxiv")
    assert len(docs) == built["papers"]
    assert stage_stats(tmp_path, "arxiv").get("dropped_pdf_only") == built["pdf_only"]
    assert len({d.text for d in docs}) == len(docs)  # reshuffled: no two papers alike
    # the macros of the real paper's preamble and of the sample's macro file (inline or \input) are expanded
    assert all("\\ZZ" not in d.text and "\\legendre" not in d.text for d in docs)


def test_proofstep_exports_make_the_documents_counted(tmp_path):
    built = scale.write_proofsteps(tmp_path / "inputs", 90, seed=3)
    _run("proofsteps", tmp_path)
    docs = read_docs(tmp_path / "proofsteps")
    stats = stage_stats(tmp_path, "proofsteps")
    held_out = sum(v for k, v in stats.items() if k.startswith("dropped_") and "benchmark" in k)
    lean_files = built["files"]["lean_proofstep_text"] + built["files"]["lean_infotree"]
    assert sum(d.metadata["lang"] == "Lean" for d in docs) == lean_files
    assert held_out > 0 and all("mathd_" not in d.text for d in docs)
    isabelle = sum(d.metadata["lang"] == "Isabelle" for d in docs)  # a document per theorem with steps
    assert isabelle < built["files"]["isabelle_theorems"] <= isabelle + held_out
    assert lean_files + built["files"]["isabelle_theorems"] == built["documents"]
