"""The arxiv stage through the CLI on the bundled samples: a bulk tar (multi-file paper, single .tex, PDF-only) and
RedPajama jsonl in; contract shards out; drops counted; byte-identical reruns; the samples are what their script
writes."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import read_docs, shards, stage_stats

from proofpile.cli import main

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "proofpile" / "samples" / "arxiv"








@pytest.mark.slow
def test_stage_on_samples_via_cli(tmp_path):
    root = tmp_path / "root"
    proc = subprocess.run([sys.executable, "-m", "proofpile.cli", "arxiv", "--config", "pipelines/arxiv.yaml",
                           "--data-root", str(root)], cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (root / "markers" / "arxiv.json").exists()
    docs = {d.id: d for d in read_docs(root / "arxiv")}
    assert sorted(docs) == ["2301.00001", "2301.00002", "2301.00004"]
    for d in docs.values():
        assert d.metadata["subset"] == "arxiv" and d.metadata["yymm"] == "2301"
        assert d.metadata["arxiv_id"] == d.id
    multi = docs["2301.00001"]
    assert multi.metadata["source"] == "arxiv-source" and multi.metadata["source_kind"] == "tar"
    assert multi.metadata["source_file"] == "arXiv_src_2301_001.tar:2301/2301.00001.gz"
    assert multi.metadata["main_file"] == "main.tex"
    text = multi.text
    # \input, \include and a path with .tex all inlined; macros with optional and mandatory arguments expanded
    assert r"\section{Introduction}" in text and r"\section{Counting representations}" in text
    assert r"$\mathbb{Z}$" in text and r"\left(\frac{a}{p}\right)" in text
    assert r"\lVert v \rVert_{2} = \lVert v \rVert_{\infty}" in text and r"\operatorname{card}" in text
    assert r"\begin{theorem}\label{thm:main}" in text and r"\begin{equation}\label{eq:count}" in text
    assert "50\\% of the nonzero" in text and "TODO" not in text and "old-macros" not in text
    assert "Tables" not in text and "bibliography" not in text  # appendix and bibliography cut
    assert text.startswith(r"\begin{abstract}")
    single = docs["2301.00002"]
    assert single.metadata["source_kind"] == "tex"
    assert r"\varepsilon" in single.text and r"\left|f(x) - f(y)\right|" in single.text
    assert r"\operatorname*{arg\,max}" in single.text and "Rudin" not in single.text
    assert docs["2301.00004"].metadata["source"] == "redpajama-arxiv"
    stats = stage_stats(root, "arxiv")
    assert stats["dropped_pdf_only"] == 1

    first = shards(root / "arxiv")
    assert main(["arxiv", "--config", str(PROJECT / "pipelines/arxiv.yaml"), "--data-root", str(root),
                 "--force"]) == 0
    assert shards(root / "arxiv") == first


def test_samples_are_what_the_script_writes(tmp_path):
    script = SAMPLES / "make_samples.py"
    copy = tmp_path / "make_samples.py"
    copy.write_text(script.read_text())
    subprocess.run([sys.executable, str(copy)], check=True, timeout=60)
    for name in ("arXiv_src_2301_001.tar", "redpajama-arxiv.jsonl"):
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name


def test_missing_input_is_a_clear_error(tmp_path, capsys):
    config = tmp_path / "arxiv.yaml"
    config.write_text(f"include: {PROJECT / 'pipelines/common.yaml'}\nbase_dir: {PROJECT}\n"
                      "arxiv:\n  sources: [does/not/exist.tar]\n")
    assert main(["arxiv", "--config", str(config), "--data-root", str(tmp_path / "root")]) == 1
    assert "input not found" in capsys.readouterr().err


@pytest.mark.parametrize("section, message", [
    ("  drop_apendix: true\n", "drop_apendix: unknown key in {config} (did you mean drop_appendix?)"),
    ("  limits: {max_membres: 3}\n", "limits.max_membres: unknown key in {config} (did you mean max_members?)"),
    ("  inline: {depth: 3}\n", "depth"),
])
def test_config_mistakes_are_clear_errors(tmp_path, capsys, section, message):
    config = tmp_path / "arxiv.yaml"
    config.write_text(f"include: {PROJECT / 'pipelines/common.yaml'}\nbase_dir: {PROJECT}\n"
                      f"arxiv:\n  sources: [proofpile/samples/arxiv/arXiv_src_2301_001.tar]\n{section}")
    assert main(["arxiv", "--config", str(config), "--data-root", str(tmp_path / "root")]) == 1
    assert message.format(config=config) in capsys.readouterr().err
