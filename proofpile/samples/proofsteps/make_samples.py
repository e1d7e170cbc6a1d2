"""Writes the proofsteps stage's demo inputs, deterministically, next to this script:

- ``lean/Sample.Nat.proofstep.txt``: what ``lake exe training_data Sample.Nat --proofstep`` prints;
- ``lean/Sample.Algebra.infotree.json``: a Lean 4 InfoTree export shaped like kim-em/lean-training-data's (command
  nodes with ``TermInfo``/``TacticInfo`` children; ``by`` blocks, tactic sequences and ``null`` nodes wrapping the
  substantive tactics), including ``mathd_algebra_478``, a miniF2F theorem that benchmark hygiene must drop;
- ``isabelle/Sample_Arith.thy_output.json``: a PISA extraction with a definition (no proof steps), two lemmas, and
  miniF2F's ``mathd_numbertheory_3`` (dropped by hygiene).

The theorems and proofs are written for this project (Apache-2.0); the benchmark theorem names are public ids.
Run: ``python proofpile/samples/proofsteps/make_samples.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

PROOFSTEP_TEXT = """\
[GOAL]
n : ℕ
⊢ 0 + n = n
[PROOFSTEP]
induction n with
| zero => rfl
| succ k ih => rw [Nat.add_succ, ih]
[GOAL]
case zero
⊢ 0 + 0 = 0
[PROOFSTEP]
rfl
[GOAL]
case succ
k : ℕ
ih : 0 + k = k
⊢ 0 + (k + 1) = k + 1
[PROOFSTEP]
rw [Nat.add_succ, ih]
[GOAL]
m n : ℕ
h : m ∣ n
hn : 0 < n
⊢ m ≤ n
[PROOFSTEP]
exact Nat.le_of_dvd hn h
[GOAL]
a b c : ℕ
⊢ a * (b + c) = a * b + a * c

a b c : ℕ
⊢ (b + c) * a = b * a + c * a
[PROOFSTEP]
all_goals ring
"""


def _pos(line: int, column: int) -> dict:
    return {"line": line, "column": column}


def _stx(pp: str, start: tuple[int, int], finish: tuple[int, int], synthetic: bool = False) -> dict:
    return {"range": {"synthetic": synthetic, "start": _pos(*start), "finish": _pos(*finish)}, "pp": pp}


def _tactic(name: str | None, pp: str, start, finish, before: list[str], after: list[str], children=()) -> dict:
    node = {"stx": _stx(pp, start, finish), "name": name, "goalsBefore": before, "goalsAfter": after}
    return {"node": node, "kind": "TacticInfo", "children": list(children)}


def _term(pp: str, start, finish, expr: str, type_: str | None = None) -> dict:
    node = {"stx": _stx(pp, start, finish), "isBinder": False, "expr": expr, "elaborator": None}
    if type_:
        node["expectedType"] = type_
    return {"node": node, "kind": "TermInfo", "children": []}


def _by_block(start, finish, goals: list[str], tactics: list[dict], pp: str) -> dict:
    """``by tac1; tac2`` as Lean elaborates it: byTactic > null (the `by` token) + tacticSeq > tacticSeq1Indented
    > the tactics."""
    seq_start = (start[0], start[1] + 3)
    seq_pp = pp.removeprefix("by").strip()
    return _tactic("Lean.Parser.Term.byTactic", pp, start, finish, goals, [], [
        _tactic(None, "<failed to pretty print>", start, (start[0], start[1] + 2), goals, [], [
            _tactic("Lean.Parser.Tactic.tacticSeq", seq_pp, seq_start, finish, goals, [], [
                _tactic("Lean.Parser.Tactic.tacticSeq1Indented", seq_pp, seq_start, finish, goals, [], tactics),
            ]),
        ]),
    ])


def _command(source: str, line: int, lines: int, body: list[dict]) -> dict:
    node = {"stx": _stx(source, (line, 0), (line + lines - 1, 40)), "elaborator": "Lean.Elab.Command.elabDeclaration"}
    return {"node": node, "kind": "CommmandInfo", "children": body}


def infotree() -> dict:
    g1 = "a b : ℕ\n⊢ (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2"
    t1 = _command("theorem add_sq' (a b : ℕ) : (a + b) ^ 2 = a ^ 2 + 2 * a * b + b ^ 2 := by\n  ring", 3, 2, [
        _term("ℕ", (3, 20), (3, 21), "ℕ", "Type"),
        _by_block((3, 70), (4, 6), [g1], [_tactic("Mathlib.Tactic.RingNF.ring", "ring", (4, 2), (4, 6), [g1], [])],
                  "by\n  ring"),
    ])
    g2 = "a b : ℝ\n⊢ 2 * a * b ≤ a ^ 2 + b ^ 2"
    g2h = "a b : ℝ\nh : 0 ≤ (a - b) ^ 2\n⊢ 2 * a * b ≤ a ^ 2 + b ^ 2"
    have = "have h : 0 ≤ (a - b) ^ 2 := sq_nonneg (a - b)"
    t2 = _command("theorem two_mul_le_add_sq (a b : ℝ) : 2 * a * b ≤ a ^ 2 + b ^ 2 := by\n  " + have +
                  "\n  nlinarith [h]", 6, 3, [
        _term("ℝ", (6, 32), (6, 33), "ℝ", "Type"),
        _by_block((6, 68), (8, 15), [g2], [
            _tactic("Lean.Parser.Tactic.tacticHave_", have, (7, 2), (7, 46), [g2], [g2h], [
                # `have` unfolds through a macro: the expansion's nodes are synthetic and must not count
                {"node": {"before": "have h ...", "after": "refine_lift ..."}, "kind": "MacroExpansionInfo",
                 "children": [{"node": {"stx": _stx("refine_lift\n  have h : 0 ≤ (a - b) ^ 2 := sq_nonneg (a - b);\n"
                                                    "  ?_", (7, 2), (7, 46), synthetic=True),
                                        "name": "Lean.Parser.Tactic.refineLift", "goalsBefore": [g2],
                                        "goalsAfter": [g2h]}, "kind": "TacticInfo", "children": []}]},
            ]),
            _tactic("Mathlib.Tactic.nlinarith", "nlinarith [h]", (8, 2), (8, 15), [g2h], []),
        ], "by\n  " + have + "\n  nlinarith [h]"),
    ])
    g3 = ("b h v : ℝ\nh₀ : 0 < b ∧ 0 < h ∧ 0 < v\nh₁ : v = 1 / 3 * (b * h)\nh₂ : b = 30\nh₃ : h = 13 / 2\n⊢ v = 65")
    g3r = "b h v : ℝ\nh₀ : 0 < b ∧ 0 < h ∧ 0 < v\nh₁ : v = 1 / 3 * (30 * (13 / 2))\nh₂ : b = 30\nh₃ : h = 13 / 2\n⊢ v = 65"
    t3 = _command("theorem mathd_algebra_478 (b h v : ℝ) (h₀ : 0 < b ∧ 0 < h ∧ 0 < v) (h₁ : v = 1 / 3 * (b * h))\n"
                  "    (h₂ : b = 30) (h₃ : h = 13 / 2) : v = 65 := by\n  rw [h₂, h₃] at h₁\n  linarith", 11, 4, [
        _by_block((12, 45), (14, 10), [g3], [
            _tactic("Lean.Parser.Tactic.rewriteSeq", "rw [h₂, h₃] at h₁", (13, 2), (13, 19), [g3], [g3r]),
            _tactic("linarith", "linarith", (14, 2), (14, 10), [g3r], []),
        ], "by\n  rw [h₂, h₃] at h₁\n  linarith"),
    ])
    g4 = "n : ℕ\nh : 0 < n\n⊢ 1 ≤ n"
    t4 = _command("example (n : ℕ) (h : 0 < n) : 1 ≤ n := by\n  omega", 17, 2, [
        _by_block((17, 38), (18, 7), [g4], [_tactic("Lean.Parser.Tactic.omega", "omega", (18, 2), (18, 7), [g4], [])],
                  "by\n  omega"),
    ])
    eoi = {"node": {"stx": _stx("", (19, 0), (19, 0)), "elaborator": "Lean.Elab.Command.elabEoi"},
           "kind": "CommmandInfo", "children": []}
    return {"trees": [t1, t2, t3, t4, eoi], "name": "Sample.Algebra"}


PISA = {"translations": [
    ["", "definition double :: \"nat \\<Rightarrow> nat\" where \"double n = n + n\""],
    ["", "lemma double_eq_mult [simp]: \"double n = 2 * n\""],
    ["proof (prove)\ngoal (1 subgoal):\n 1. double n = 2 * n", "unfolding double_def"],
    ["proof (prove)\ngoal (1 subgoal):\n 1. n + n = 2 * n", "by simp"],
    ["", "theorem mathd_numbertheory_3:\n  \"(\\<Sum> x < 10. ((x + 1)^2)) mod 10 = (5::nat)\""],
    ["proof (prove)\ngoal (1 subgoal):\n 1. (\\<Sum>x<10. (x + 1)\\<^sup>2) mod 10 = 5", "by eval"],
    ["", "lemma sum_odd_first: \"(\\<Sum> i < n. 2 * i + 1) = (n::nat)^2\""],
    ["proof (prove)\ngoal (1 subgoal):\n 1. (\\<Sum>i<n. 2 * i + 1) = n\\<^sup>2", "proof (induction n)"],
    ["proof (state)\ngoal (2 subgoals):\n 1. (\\<Sum>i<0. 2 * i + 1) = 0\\<^sup>2\n 2. \\<And>n. (\\<Sum>i<n. 2 * i + 1) ="
     " n\\<^sup>2 \\<Longrightarrow> (\\<Sum>i<Suc n. 2 * i + 1) = (Suc n)\\<^sup>2", "case 0"],
    ["proof (state)\nthis:\n\ngoal (1 subgoal):\n 1. (\\<Sum>i<0. 2 * i + 1) = 0\\<^sup>2", "then show ?case by simp"],
    ["proof (state)\ngoal (1 subgoal):\n 1. \\<And>n. (\\<Sum>i<n. 2 * i + 1) = n\\<^sup>2 \\<Longrightarrow> "
     "(\\<Sum>i<Suc n. 2 * i + 1) = (Suc n)\\<^sup>2", "case (Suc n)"],
    ["proof (state)\nthis:\n  (\\<Sum>i<n. 2 * i + 1) = n\\<^sup>2\n\ngoal (1 subgoal):\n 1. (\\<Sum>i<Suc n. 2 * i + 1)"
     " = (Suc n)\\<^sup>2", "then show ?case by (simp add: power2_eq_square)"],
    ["proof (state)\nthis:\n  (\\<Sum>i<Suc n. 2 * i + 1) = (Suc n)\\<^sup>2\n\ngoal:\nNo subgoals!", "qed"],
]}


def main() -> None:
    (HERE / "lean").mkdir(exist_ok=True)
    (HERE / "isabelle").mkdir(exist_ok=True)
    (HERE / "lean" / "Sample.Nat.proofstep.txt").write_text(PROOFSTEP_TEXT, encoding="utf-8")
    (HERE / "lean" / "Sample.Algebra.infotree.json").write_text(
        json.dumps(infotree(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    (HERE / "isabelle" / "Sample_Arith.thy_output.json").write_text(
        json.dumps(PISA, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
