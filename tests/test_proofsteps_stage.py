"""The proofsteps stage through the CLI on the bundled samples: Lean text and InfoTree exports and a PISA file in;
one document per Lean file and per Isabelle theorem out; miniF2F theorems dropped and counted; byte-identical
reruns; the samples are what their script writes."""

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import read_docs, shards, stage_stats

from proofpile.cli import main

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "proofpile" / "samples" / "proofsteps"




@pytest.mark.slow
def test_stage_on_samples_via_cli(tmp_path):
    root = tmp_path / "root"
    proc = subprocess.run([sys.executable, "-m", "proofpile.cli", "proofsteps", "--config",
                           "pipelines/proofsteps.yaml", "--data-root", str(root)],
                          cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    docs = {d.id: d for d in read_docs(root / "proofsteps")}
    assert sorted(docs) == [
        "isabelle-proofsteps:Sample_Arith.thy_output.json#1",
        "isabelle-proofsteps:Sample_Arith.thy_output.json#6",
        "lean-proofsteps:Sample.Algebra.infotree.json",
        "lean-proofsteps:Sample.Nat.proofstep.txt",
    ]
    for d in docs.values():
        assert d.metadata["subset"] == "algebraic-stack"
        assert (d.metadata["lang"], d.metadata["source"]) in {("Lean", "lean-proofsteps"),
                                                              ("Isabelle", "isabelle-proofsteps")}
        assert "mathd_" not in d.text  # miniF2F theorems are held out

    algebra = docs["lean-proofsteps:Sample.Algebra.infotree.json"]
    assert algebra.metadata["module"] == "Sample.Algebra"
    assert algebra.metadata["theorems"] == ["add_sq'", "two_mul_le_add_sq"]  # and an unnamed `example`
    tactics = [block.split("\n[PROOFSTEP]\n")[1] for block in algebra.text.split("[GOAL]\n")[1:]]
    assert [t.strip() for t in tactics] == ["ring", "have h : 0 ≤ (a - b) ^ 2 := sq_nonneg (a - b)",
                                            "nlinarith [h]", "omega"]  # no by/seq wrappers, no macro expansion
    assert "refine_lift" not in algebra.text

    nat = docs["lean-proofsteps:Sample.Nat.proofstep.txt"]
    assert nat.text == (SAMPLES / "lean" / "Sample.Nat.proofstep.txt").read_text().rstrip("\n")
    assert nat.metadata["module"] == "Sample.Nat" and nat.metadata["steps"] == 5

    lemma = docs["isabelle-proofsteps:Sample_Arith.thy_output.json#6"]
    assert lemma.metadata["theorem"] == "sum_odd_first" and lemma.metadata["theory"] == "Sample_Arith"
    assert lemma.text.startswith('[STATEMENT]\nlemma sum_odd_first: "(\\<Sum> i < n. 2 * i + 1) = (n::nat)^2"\n'
                                 "[PROOF STATE]\nproof (prove)\n")
    assert lemma.text.count("[PROOF STEP]") == 6 and lemma.text.endswith("[PROOF STEP]\nqed")

    stats = stage_stats(root, "proofsteps")
    assert stats["dropped_benchmark_minif2f"] == 2  # mathd_algebra_478 (Lean), mathd_numbertheory_3 (Isabelle)
    assert stats["skipped_no_proof_steps"] == 1  # the Isabelle definition

    first = shards(root / "proofsteps")
    assert main(["proofsteps", "--config", str(PROJECT / "pipelines/proofsteps.yaml"), "--data-root", str(root),
                 "--force"]) == 0
    assert shards(root / "proofsteps") == first


def test_samples_are_what_the_script_writes(tmp_path):
    copy = tmp_path / "make_samples.py"
    copy.write_text((SAMPLES / "make_samples.py").read_text())
    subprocess.run([sys.executable, str(copy)], check=True, timeout=60)
    for rel in ("lean/Sample.Nat.proofstep.txt", "lean/Sample.Algebra.infotree.json",
                "isabelle/Sample_Arith.thy_output.json"):
        assert (tmp_path / rel).read_bytes() == (SAMPLES / rel).read_bytes(), rel


def test_config_mistakes_are_clear_errors(tmp_path, capsys):
    config = tmp_path / "proofsteps.yaml"
    base = f"include: {PROJECT / 'pipelines/common.yaml'}\nbase_dir: {PROJECT}\nproofsteps:\n"
    config.write_text(base + "  lean_infotrees: [proofpile/samples/proofsteps/lean]\n")
    assert main(["proofsteps", "--config", str(config), "--data-root", str(tmp_path / "r1")]) == 1
    assert f"lean_infotrees: unknown key in {config} (did you mean lean_infotree?)" in capsys.readouterr().err
    config.write_text(base + "  isabelle_pisa: [no/such/folder]\n")
    assert main(["proofsteps", "--config", str(config), "--data-root", str(tmp_path / "r2")]) == 1
    assert "input not found" in capsys.readouterr().err
