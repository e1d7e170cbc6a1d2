"""Benchmark hygiene for formal statements: miniF2F theorems are removed from Lean 4, Lean 3 and Isabelle files
and from proof-step text by their statement (names differ and proof steps have none); the rest is kept."""

import json

import pytest
from datatrove.data import Document

from proofpile.decontam.formal import (
    FORMAL_DIR,
    FormalBenchmarkHygiene,
    goal_key,
    may_hold_statement,
    statement_key,
)

ROWS = {(r["system"], r["name"]): r["statement"] for r in map(json.loads, (
    FORMAL_DIR / "minif2f.statements.jsonl").read_text().splitlines())}
ORDINARY_LEAN4 = "theorem my_add_zero (n : ℕ) : n + 0 = n := by\n  simp\n"
ORDINARY_LEAN3 = "theorem my_add_zero (n : ℕ) : n + 0 = n :=\nbegin\n  simp,\nend\n"
ORDINARY_ISABELLE = 'lemma my_add_zero: "(n::nat) + 0 = n"\n  by simp\n'


def run(docs, step_class=FormalBenchmarkHygiene):
    step = step_class()
    out = list(step.run(iter(Document(text=t, id=i, metadata={"lang": lang}) for i, lang, t in docs)))
    return {d.id: d.text for d in out}, step.stats


def test_statement_key_ignores_names_spacing_and_comments():
    a = statement_key("theorem foo (x : ℕ) :\n  x + 0 = x := by simp", "lean4")
    assert a == statement_key("lemma bar (x : ℕ) : x + 0 = x -- note\n:=\nbegin\n simp\nend", "lean3") == "(x:ℕ):x+0=x"
    assert statement_key('lemma a: "x = (1::nat)" by simp', "isabelle") == statement_key(
        'theorem b :\n  "x = (1::nat)"\n  sorry', "isabelle")
    assert statement_key("def f := 1", "lean4") is None
    # a proof keyword inside a quoted term is part of the statement; the first one outside ends it
    assert statement_key('lemma a: "p by q" "r" \\<open>s using t\\<close> using u by simp', "isabelle") == \
        '"pbyq""r"\\<open>susingt\\<close>'
    assert statement_key('lemma a:\u00a0"x"\u2003\x1c by simp', "isabelle") == '"x"'  # every Unicode space goes
    # a Lean header is read without removing comments when none opens before its ":=": one that does (holding a
    # ":=" of its own, or not), an attribute holding a ":=", and a comment after the ":=" give the same key
    for text in ("theorem t (x : ℕ) : x + 0 = x -- note := wrong\n  := by simp",
                 "theorem t (x : ℕ) /- a := b -/ : x + 0 = x := by simp", "theorem t (x : ℕ) : x + 0 = x",
                 "theorem t (x : ℕ) : x + 0 = x := by -- x := y\n simp", "theorem t (x : ℕ) : x + 0 = x -- := ",
                 "@[simp, priority := 10] theorem t (x : ℕ) : x + 0 = x := by simp"):
        assert statement_key(text, "lean4") == "(x:ℕ):x+0=x", text
    assert statement_key("theorem t (x : ℕ) /- : x + 0 = x := by simp", "lean4") == "(x:ℕ)/-:x+0=x"  # unclosed
    # the proof keywords are whole words: "byte" and "proofs" do not end a statement
    assert statement_key('lemma a: "x" byte proofs_x xby\nby simp', "isabelle") == '"x"byteproofs_xxby'


def _code_stage_hygiene():
    from proofpile.code.filters import FormalHygiene  # the code stage's: the same step, tallied bookkeeping

    return FormalHygiene()


@pytest.mark.parametrize("step_class", [FormalBenchmarkHygiene, _code_stage_hygiene])
def test_benchmark_blocks_are_removed_and_the_rest_of_the_file_is_kept(step_class):
    lean4 = ("import Mathlib\nopen Real\n\n" + ORDINARY_LEAN4 + "\n/-- from a contest -/\n"
             + ROWS[("lean4", "aime_1983_p2")] + " := by\n  sorry\n\n" + ORDINARY_LEAN4.replace("my_", "your_"))
    lean3 = ("import data.real.basic\n\n" + ROWS[("lean3", "mathd_algebra_10")] + " :=\nbegin\n  norm_num,\nend\n\n"
             + ORDINARY_LEAN3)
    isabelle = ("theory T imports Main\nbegin\n\n" + ORDINARY_ISABELLE + "\n" + ROWS[("isabelle", "amc12a_2011_p18")]
                + "\n  sorry\n\nend\n")
    only = "import Mathlib\n\n" + ROWS[("lean4", "mathd_algebra_10")] + " := by\n  norm_num\n"
    kept, stats = run([("l4", "Lean", lean4), ("l3", "Lean", lean3), ("thy", "Isabelle", isabelle),
                       ("only", "Lean", only), ("py", "Python", ROWS[("lean4", "mathd_algebra_10")])], step_class)
    assert set(kept) == {"l4", "l3", "thy", "py"}
    assert "aime_1983_p2" not in kept["l4"] and "my_add_zero" in kept["l4"] and "your_add_zero" in kept["l4"]
    assert "mathd_algebra_10" not in kept["l3"] and kept["l3"].endswith(ORDINARY_LEAN3)
    assert "amc12a_2011_p18" not in kept["thy"] and ORDINARY_ISABELLE in kept["thy"] and kept["thy"].endswith("end\n")
    assert stats["removed_minif2f"].total == 4 and stats["dropped_only_benchmark_theorems"].total == 1
    counted = 5 if step_class is FormalBenchmarkHygiene else 4  # the code stage's counts Lean and Isabelle files only
    assert stats["total"].total == counted and stats["forwarded"].total == counted - 1 and stats["dropped"].total == 1
    # a changed statement is a different theorem
    changed = ROWS[("lean4", "aime_1983_p2")].replace("15 ≤ f x", "16 ≤ f x") + " := by\n  sorry\n"
    assert run([("c", "Lean", changed)], step_class)[0] == {"c": changed}


def test_a_file_is_ruled_out_by_one_scan_only_when_no_block_can_match():
    """The scan of the whole file for benchmark keys (``may_hold_statement``) sees a statement whose spacing and
    comments differ, and a block that keeps a comment of the file whole (one that opens in another block, or one
    that spans blocks); a file without a benchmark statement is ruled out."""
    stmt = ROWS[("lean4", "aime_1983_p2")]
    commented = stmt.replace("(f : ℝ → ℝ)", "(f /- a function -/ :\u00a0ℝ → ℝ) -- f\n")
    # a comment opened in the block before and closed after the benchmark block: the file without its comments
    # lacks the statement, but each block, read on its own, keeps it
    spanning = ORDINARY_LEAN4.replace("simp", "simp /- an aside\n") + stmt + " := by\n  sorry\n-/\n"
    isabelle = ("(* notes\n" + ORDINARY_ISABELLE + "*)\n" + ROWS[("isabelle", "amc12a_2011_p18")].replace(" ", " (* x *) ", 1)
                + "\n  sorry\n")
    for system, text in (("lean", commented + " := by simp\n"), ("lean", spanning), ("isabelle", isabelle)):
        assert may_hold_statement(text, system)
        cleaned, removed = FormalBenchmarkHygiene().clean_source(text, system)
        assert removed == ["minif2f"], text
    for system, text in (("lean", ORDINARY_LEAN4 + "/- a\nlong comment -/\n" + ORDINARY_LEAN4), ("lean", stmt[:-1]),
                         ("isabelle", ORDINARY_ISABELLE + "(* c *)")):
        assert not may_hold_statement(text, system)


def test_comment_spans_are_the_comment_patterns_matches():
    """The comments found in linear time are the matches of the comment patterns (and removing them is their
    ``sub``), also when one kind holds the other, openers have no closer, or the text is random strokes."""
    import random

    from proofpile.decontam.formal import _ISABELLE_COMMENT, _LEAN_COMMENT, comment_spans, without_comments

    rng = random.Random(7)
    texts = ["a -- b /- c -/ d\n/- e -- f -/ g", "/--/ -/-- x\n--/- y -/", "/- open -- line\n", "-/- a -/",
             "--/-x-/\n/-/--/", "theorem t : a /- b\n c -/ := d -- e", "", "no comments",
             "-- see a /- b\n" * 50 + "theorem t : True := trivial", "/- a -/ " + "x /- y\n" * 30 + "-- z"]
    texts += ["".join(rng.choice(["/", "-", "*", "(", ")", "\n", "a", " "]) for _ in range(rng.randint(0, 40)))
              for _ in range(3000)]
    for text in texts:
        assert comment_spans(text, "lean") == [m.span() for m in _LEAN_COMMENT.finditer(text)], text
        assert without_comments(text, "lean") == _LEAN_COMMENT.sub(" ", text), text
        isabelle = text.replace("/-", "(*").replace("-/", "*)")
        assert comment_spans(isabelle, "isabelle") == [m.span() for m in _ISABELLE_COMMENT.finditer(isabelle)]
        assert comment_spans(text, "isabelle") == [m.span() for m in _ISABELLE_COMMENT.finditer(text)], text
        assert without_comments(text, "isabelle") == _ISABELLE_COMMENT.sub(" ", text), text


def test_proofstep_goals_of_benchmark_theorems_are_removed():
    goal = ("[GOAL]\nx p : ℝ\nf : ℝ → ℝ\nh₀ : 0 < p ∧ p < 15\nh₁ : p ≤ x ∧ x ≤ 15\n"
            "h₂ : f x = abs (x - p) + abs (x - 15) + abs (x - p - 15)\n⊢ 15 ≤ f x\n[PROOFSTEP]\ncases h₀\n")
    later = ("[GOAL]\nx p : ℝ\nf : ℝ → ℝ\nh₀ : 0 < p ∧ p < 15\nh₁ : p ≤ x ∧ x ≤ 15\n"
             "h₂ : f x = abs (x - p) + abs (x - 15) + abs (x - p - 15)\nh₃ : p < 15\n⊢ 15 ≤ f x\n[PROOFSTEP]\n"
             "linarith\n")
    other = "[GOAL]\nn : ℕ\n⊢ n + 0 = n\n[PROOFSTEP]\nsimp\n"
    assert goal_key(goal.split("[PROOFSTEP]")[0].removeprefix("[GOAL]"))[0] == "15≤fx"
    kept, stats = run([("steps", "Lean", other + goal + later + other)])
    assert kept["steps"] == other + other and stats["removed_minif2f"].total == 1


def test_proofstep_goals_match_statements_as_lean_prints_them():
    """Goals as Lean prints them: universes as ``Type u_1`` (the statement says ``Type*``), instance hypotheses
    named ``inst✝``, binder parentheses added; Lean 3 ends each hypothesis with a comma."""
    lean4 = ("[GOAL]\nG : Type u_1\ninst✝¹ : Group G\ninst✝ : Fintype G\nhG : Even (card G)\n"
             "⊢ ∃ (x : G), orderOf x = 2\n[PROOFSTEP]\nobtain ⟨x, hx⟩ := exists_prime_orderOf_dvd_card 2 hG\n")
    lean3 = ("[GOAL]\nF : Type u_1,\n_inst_1 : field F,\nG : Type u_2,\n_inst_2 : field G,\nφ : F →+* G\n"
             "⊢ injective ⇑φ\n[PROOFSTEP]\nexact φ.injective\n")
    other = "[GOAL]\nG : Type u_1\ninst✝ : Group G\nx : G\n⊢ x * 1 = x\n[PROOFSTEP]\nsimp\n"
    kept, stats = run([("l4", "Lean", other + lean4 + other), ("l3", "Lean", other + lean3)])
    assert kept == {"l4": other + other, "l3": other} and stats["removed_proofnet"].total == 2


def test_isabelle_pisa_theorem_documents_are_dropped():
    stmt = ROWS[("isabelle", "amc12a_2011_p18")]
    text = f"[STATEMENT]\n{stmt}\n[PROOF STATE]\ngoal\n[PROOF STEP]\nsledgehammer"
    kept, stats = run([("pisa", "Isabelle", text),
                       ("own", "Isabelle", '[STATEMENT]\nlemma a: "x = x"\n[PROOF STATE]\ng\n[PROOF STEP]\nby simp')])
    assert set(kept) == {"own"} and stats["dropped_benchmark_minif2f"].total == 1


PROOFNET = {(r["system"], r["name"]): r["statement"] for r in map(json.loads, (
    FORMAL_DIR / "proofnet.statements.jsonl").read_text().splitlines())}


def test_proofnet_statements_are_removed_from_lean3_and_lean4_books():
    # a book file as ProofNet ships it (Lean 3: `import .common`, a def between theorems, begin/end proofs) and its
    # Lean 4 port, each with one ProofNet statement among ordinary theorems of the same style
    ordinary3 = "theorem my_exercise (x : ℝ) (h : 0 < x) :\n  0 < x ^ 2 :=\nbegin\n  positivity,\nend\n"
    ordinary4 = "theorem my_exercise (x : ℝ) (h : 0 < x) :\n  0 < x ^ 2 := by\n  positivity\n"
    lean3 = ("import .common\n\nopen real\nnoncomputable theory\n\n" + ordinary3 + "\n"
             + "noncomputable def f : ℕ → ℝ\n| 0 := sqrt 2\n| (n + 1) := sqrt (2 + sqrt (f n))\n\n"
             + PROOFNET[("lean3", "Rudin|exercise_3_3")] + " :=\nsorry\n\n" + ordinary3.replace("my_", "your_"))
    lean4 = ("import Mathlib\n\nopen Filter Real\n\n" + PROOFNET[("lean4", "Munkres|exercise_29_10")]
             + " :=\nsorry\n\n" + ordinary4 + "\n/-- renamed: still the statement -/\n"
             + PROOFNET[("lean4", "Pugh|exercise_2_12a")].replace("exercise_2_12a", "mine") + " :=\nsorry\n")
    kept, stats = run([("l3", "Lean", lean3), ("l4", "Lean", lean4)])
    assert "exercise_3_3" not in kept["l3"] and "def f" in kept["l3"]
    assert "my_exercise" in kept["l3"] and "your_exercise" in kept["l3"]
    assert "exercise_29_10" not in kept["l4"] and "my_exercise" in kept["l4"]
    assert "theorem mine" not in kept["l4"]
    assert stats["removed_proofnet"].total == 3 and "removed_minif2f" not in stats.stats
    changed = PROOFNET[("lean4", "Pugh|exercise_2_12a")].replace("(f n)) atTop (𝓝 a)", "(f n)) atTop (𝓝 (a + 1))") \
        + " :=\nsorry\n"
    assert run([("c", "Lean", changed)])[0] == {"c": changed}


def test_proofnet_list_holds_every_formal_statement_once_per_system():
    systems = [s for s, _ in PROOFNET]
    assert systems.count("lean3") == 374 and systems.count("lean4") == 360  # Lean 4: the port's theorems
    assert all(statement_key(text, system) for (system, _), text in PROOFNET.items())
    assert {name.split("|")[0] for _, name in PROOFNET} == {
        "Artin", "Axler", "Cambridge-Tripos", "Dummit-Foote", "Herstein", "Ireland-Rosen", "Munkres", "Pugh",
        "Putnam", "Rudin", "Shakarchi"}


def test_theorem_block_starts_are_found_as_finditer_finds_them():
    """``LineStarts`` (a newline-led search) gives the match starts of ``finditer`` for the four block patterns, on
    random texts of keywords, attributes, comments and line breaks (blank lines, ``\\r\\n``, a match at 0)."""
    import random
    import re

    from proofpile.decontam import formal

    pieces = ["\n", "\n\n", "  ", "\t", "theorem", "lemma", "example", "@[simp]", "@[simp]\n", "private ",
              "noncomputable ", "def", "end", "end x", "#eval", "/-", "/--", "-/", "x", ":", "corollary", "text",
              "ML", "section", "\r\n", "é", "import", "schematic_goal"]
    rnd = random.Random(0)
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30))) for _ in range(5000)]
    for pattern in (formal.LEAN_DECL, formal.LEAN_TOP, formal.ISABELLE_DECL, formal.ISABELLE_TOP):
        starts = formal.LineStarts(pattern)
        for text in texts:
            assert starts(text) == [m.start() for m in pattern.finditer(text)], (pattern.pattern, text)
    with pytest.raises(ValueError, match="line starts"):
        formal.LineStarts(re.compile(r"theorem\b", re.M))


def test_first_chars_holds_every_first_character_or_says_none():
    """``first_chars``: a class that every match's first character is in (checked on the matches of random texts),
    None for a pattern that may match nothing or that it cannot read (case-insensitive, negated class)."""
    import random
    import re

    from proofpile.decontam.formal import LineStarts, first_chars

    formal_line_starts = lambda pattern: LineStarts(re.compile(pattern, re.M))  # noqa: E731
    assert first_chars(r"a*") is None and first_chars(r"(?:x|)") is None and first_chars(r"[^a]b") is None
    assert first_chars(r"theorem", re.I) is None and first_chars(r"(?i:theorem)\b") is None
    assert formal_line_starts(r"^(?i:theorem)\b")("x\nTheorem a\n") == [2]  # found after any newline
    patterns = [r"(?:@\[[^\n]*\]\s*)?(?:(?:private|protected)\s+)*(?:theorem|lemma)\b", r"\s*(?:end|text)\b",
                r"x?[0-9]+y", r"(?:ab|c(?:d|e))f", r"\d+|\w\s"]
    rnd = random.Random(1)
    texts = ["".join(rnd.choice(["@[a]", " ", "\n", "private ", "theorem", "lemma", "end", "text", "x", "12", "y",
                                 "ab", "cdf", "cef", "f", "é"]) for _ in range(20)) for _ in range(2000)]
    for pattern in patterns:
        first = re.compile(f"[{first_chars(pattern)}]")
        for text in texts:
            for m in re.finditer(pattern, text):
                assert m.group() and first.match(m.group()), (pattern, text)
