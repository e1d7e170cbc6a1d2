"""Benchmark hygiene in the code stage: ``minif2f_leak`` and ``proofnet_leak``.

A source tree holds the 488 miniF2F statements as real-world files: Lean 4 (one file per theorem, Mathlib
header, as in miniF2F-lean4 ``MiniF2F/Test/*.lean``), Lean 3 (``test.lean`` / ``valid.lean`` with every theorem,
as openai/miniF2F ships them) and Isabelle (one ``.thy`` per theorem), mixed with ordinary theorem files (the
bundled Lean and Isabelle samples, and ordinary theorems inside the miniF2F files). The code stage's steps run
over it; the figure is the number of miniF2F statements still in its output (target 0) and the detail says how many
ordinary theorems were kept (target: all) and what the hygiene step counted.

``proofnet_leak`` does the same with ProofNet's book files as ProofNet ships them (Lean 3: one
``benchmark/formal/<Book>.lean`` per textbook, ``import .common``, ``begin ... end`` proofs) and as its Lean 4 port
does (``formal/<Book>.lean``, Mathlib header, ``sorry``), the statements taken from
``filters/decontam/formal/proofnet.statements.jsonl`` and ordinary theorems set between them.

miniF2F needs ../shared/fixtures/benchmarks/minif2f-statements.jsonl; absent, no miniF2F figure (said so).
"""

from __future__ import annotations

import re
from pathlib import Path

import orjson

from proofpile.bench import PROJECT, SHARED, figure

FIXTURE = SHARED / "benchmarks" / "minif2f-statements.jsonl"
SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "code"
LEAN4_HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n\n"
PROOFNET_HEADERS = {"lean3": "import .common\n\nopen real complex\nopen_locale big_operators\nnoncomputable theory\n\n",
                    "lean4": "import Mathlib\n\nopen Filter Real Function\nopen scoped BigOperators\nnoncomputable section\n\n"}
PROOFS = {"lean3": " :=\nbegin\n  sorry,\nend\n", "lean4": " :=\nsorry\n"}


def ordinary(i: int, system: str) -> tuple[str, str]:
    name = f"ordinary_lemma_{system}_{i}"
    if system == "isabelle":
        return name, f'lemma {name}: "(n::nat) + {i} = {i} + n"\n  by simp\n'
    if system == "lean3":
        return name, f"theorem {name} (n : ℕ) : n + {i} = {i} + n :=\nbegin\n  rw add_comm,\nend\n"
    return name, f"theorem {name} (n : ℕ) : n + {i} = {i} + n := by\n  omega\n"


def make_tree(root: Path) -> tuple[list[str], list[str]]:
    """Writes the tree; returns (miniF2F names, ordinary theorem names)."""
    rows = [orjson.loads(line) for line in FIXTURE.read_bytes().splitlines() if line.strip()]
    bench_names, ordinary_names = sorted({r["name"] for r in rows}), []
    lean3 = {"test": [], "valid": []}
    for k, r in enumerate(rows):
        split = r["split"].capitalize()
        if r["system"] == "lean4":
            name, extra = ordinary(k, "lean4") if k % 8 == 0 else (None, "")
            path = root / "miniF2F-lean4" / "MiniF2F" / split / f"{r['name']}.lean"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(LEAN4_HEADER + f"/-- {r['name']} -/\n" + r["statement"] + " := by\n  sorry\n\n" + extra)
        elif r["system"] == "isabelle":
            name, extra = ordinary(k, "isabelle") if k % 8 == 0 else (None, "")
            path = root / "miniF2F" / "isabelle" / r["split"] / f"{r['name']}.thy"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"theory {r['name']} imports Complex_Main\nbegin\n\n{extra}\n{r['statement']}\n"
                            "  sorry\n\nend\n")
        else:
            name, extra = ordinary(k, "lean3") if k % 8 == 0 else (None, "")
            lean3[r["split"]].append(r["statement"] + " :=\nbegin\n  sorry\nend\n\n" + extra)
        if name:
            ordinary_names.append(name)
    for split, blocks in lean3.items():
        path = root / "miniF2F" / "lean" / "src" / f"{split}.lean"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("import minif2f_import\n\nopen_locale big_operators\nopen_locale real\n\n" + "\n".join(blocks))
    for lang in ("lean", "isabelle"):  # the bundled ordinary theorem files
        for src in sorted((SAMPLES / lang).glob("*")):
            if src.is_file():
                dest = root / "ordinary" / lang / src.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(src.read_bytes())
                ordinary_names += re.findall(r"^\s*(?:theorem|lemma)\s+([^\s:(\[{]+)", src.read_text(), re.M)
    return bench_names, ordinary_names


def make_proofnet_tree(root: Path) -> list[str]:
    """ProofNet's book files in Lean 3 and Lean 4, an ordinary theorem after every 8th statement; returns the
    ordinary theorem names."""
    from proofpile.decontam.formal import FORMAL_DIR

    books: dict[tuple[str, str], list[str]] = {}
    ordinary_names = []
    for k, line in enumerate((FORMAL_DIR / "proofnet.statements.jsonl").read_bytes().splitlines()):
        r = orjson.loads(line)
        name, extra = ordinary(k, r["system"]) if k % 8 == 0 else (None, "")
        books.setdefault((r["system"], r["name"].split("|")[0]), []).append(
            r["statement"] + PROOFS[r["system"]] + "\n" + extra)
        if name:
            ordinary_names.append(name)
    for (system, book), blocks in books.items():
        folder = root / ("ProofNet/benchmark/formal" if system == "lean3" else "ProofNet-lean4/formal")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{book}.lean").write_text(PROOFNET_HEADERS[system] + "\n".join(blocks))
    return ordinary_names


def leaks(rows: list[dict], text: str) -> list[str]:
    """The statements still in ``text`` (whitespace aside): a check independent of the hygiene step's own
    normalisation."""
    flat = re.sub(r"\s+", "", text)
    return sorted({f"{r['system']}:{r['name']}" for r in rows if re.sub(r"\s+", "", r["statement"]) in flat})


def run(workdir: Path) -> list[dict]:
    from proofpile.bench.code import run_stage_steps, stage_pipelines
    from proofpile.config import StageConfig
    from proofpile.contract import ContractReader
    from proofpile.decontam.formal import FORMAL_DIR

    tree = workdir / "tree"
    minif2f = FIXTURE.is_file()
    if not minif2f:
        print("  skipped miniF2F: ../shared/fixtures/benchmarks/minif2f-statements.jsonl is absent")
    ordinary_names = make_tree(tree / "minif2f")[1] if minif2f else []
    proofnet_ordinary = make_proofnet_tree(tree / "proofnet")
    project = PROJECT
    cfg = StageConfig.load("code", project / "pipelines" / "code.yaml", data_root=workdir / "root",
                           overrides={"code": {"sources": [{"kind": "dir", "path": str(tree), "name": "bench"}]}})
    run_stage_steps(stage_pipelines(cfg, workdir / "out"), workdir / "out")
    text = "\n".join(d.text for d in ContractReader(str(workdir / "out" / "code")).run())
    declared = set(re.findall(r"(?:theorem|lemma)\s+([^\s:(\[{]+)", text))
    figures = []
    if minif2f:
        rows = [orjson.loads(line) for line in FIXTURE.read_bytes().splitlines() if line.strip()]
        leaked = leaks(rows, text)
        figures.append(figure("minif2f_leak", len(leaked), "statements kept", "488 miniF2F statements x 3 systems "
                              "in a code tree (target 0; every ordinary theorem kept)", leaked=leaked[:20],
                              ordinary_theorems=len(ordinary_names),
                              ordinary_kept=sum(n in declared for n in ordinary_names),
                              files=sum(1 for p in (tree / "minif2f").rglob("*") if p.is_file())))
    rows = [orjson.loads(line) for line in (FORMAL_DIR / "proofnet.statements.jsonl").read_bytes().splitlines()]
    leaked = leaks(rows, text)
    figures.append(figure("proofnet_leak", len(leaked), "statements kept", f"{len(rows)} ProofNet statements (Lean 3 "
                          "and a Lean 4 port) in their book files in a code tree (target 0; every ordinary theorem "
                          "kept)", leaked=leaked[:20], ordinary_theorems=len(proofnet_ordinary),
                          ordinary_kept=sum(n in declared for n in proofnet_ordinary),
                          files=sum(1 for p in (tree / "proofnet").rglob("*") if p.is_file())))
    return figures
