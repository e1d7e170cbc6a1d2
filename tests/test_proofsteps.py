"""Proof steps: the real Lean InfoTree export, training_data text, PISA JSON, benchmark hygiene, and bad input as
counted drops."""

import json
from collections import Counter
from pathlib import Path

import pytest
from datatrove.data import Document

from proofpile.proofsteps.assemble import LeanFileAssembler
from proofpile.proofsteps.hygiene import BenchmarkHygieneFilter, benchmark_lists, read_list
from proofpile.proofsteps.isabelle import parse_pisa
from proofpile.proofsteps.lean import ProofstepFormatError, declaration_name, parse_infotree, parse_proofstep_text
from proofpile.proofsteps.readers import IsabellePisaReader, LeanInfoTreeReader, LeanProofstepTextReader

PROJECT = Path(__file__).resolve().parents[1]
LISTS = PROJECT / "filters" / "proofsteps"
HYPS = "a b c : Nat\nh₁ : a = b\nh₂ : b = c\n"


def run_reader(reader_cls, folder, **kwargs):
    reader = reader_cls(str(folder), **kwargs)
    docs = list(reader.run(rank=0, world_size=1))
    return docs, {k: v.total for k, v in reader.stats.stats.items()}


def test_real_infotree_gives_the_calc_proof_steps(shared_fixture):
    data = json.loads(shared_fixture("proofsteps/lean-infotree-calc.json").read_text())
    module, theorems, stats = parse_infotree(data)
    assert module == "Examples.calc"
    [thm] = theorems
    assert thm.name is None and thm.line == 1  # an `example`
    assert thm.statement == "example {a b c : Nat} (h₁ : a = b) (h₂ : b = c) : a = c"
    pairs = [(s.goals, s.tactic) for s in thm.steps]
    assert pairs == [
        ([HYPS + "⊢ a = c"], "calc\n  a = b := by exact h₁\n  _ = c := by exact h₂"),
        ([HYPS + "⊢ a = b"], "exact h₁"),
        ([HYPS + "⊢ b = c"], "exact h₂"),
    ]
    # the `by` blocks, tactic sequences and anonymous nodes that wrap them are not steps
    assert thm.render() == (
        f"[GOAL]\n{HYPS}⊢ a = c\n[PROOFSTEP]\ncalc\n  a = b := by exact h₁\n  _ = c := by exact h₂\n"
        f"[GOAL]\n{HYPS}⊢ a = b\n[PROOFSTEP]\nexact h₁\n"
        f"[GOAL]\n{HYPS}⊢ b = c\n[PROOFSTEP]\nexact h₂")


def test_real_infotree_through_reader_and_assembler(shared_fixture):
    path = shared_fixture("proofsteps/lean-infotree-calc.json")
    docs, stats = run_reader(LeanInfoTreeReader, path.parent, glob_pattern=path.name)
    [doc] = list(LeanFileAssembler().run(iter(docs)))
    assert doc.id == "lean-proofsteps:lean-infotree-calc.json"
    assert doc.metadata == {"subset": "algebraic-stack", "source": "lean-proofsteps", "lang": "Lean",
                            "path": "lean-infotree-calc.json", "module": "Examples.calc", "format": "infotree",
                            "steps": 3}
    assert doc.text.count("[GOAL]") == 3 and doc.text.startswith("[GOAL]\na b c : Nat")
    assert stats["steps"] == 3


@pytest.mark.parametrize("cut", [1, 100, 5000, -2])
def test_truncated_infotree_is_a_counted_drop(shared_fixture, tmp_path, cut):
    raw = shared_fixture("proofsteps/lean-infotree-calc.json").read_bytes()
    (tmp_path / "cut.json").write_bytes(raw[:cut])
    docs, stats = run_reader(LeanInfoTreeReader, tmp_path)
    assert docs == [] and stats["dropped_truncated_file"] == 1


def test_malformed_json_is_a_counted_drop(tmp_path):
    (tmp_path / "a.json").write_text('{"trees": [}, "name": "X"}')
    (tmp_path / "b.json").write_text('not json at all')
    (tmp_path / "c.json").write_text('{"trees": "not a list"}')
    (tmp_path / "d.json").write_text('{"trees": [{"kind": "TacticInfo", "node": {}, "children": 7}]}')
    docs, stats = run_reader(LeanInfoTreeReader, tmp_path)
    assert docs == []
    assert stats["dropped_malformed_json"] == 2 and stats["dropped_malformed"] == 2
    (tmp_path / "e.thy_output.json").write_text('{"translations": [["", "lemma x: \\"True\\""], ["s"]]}')
    (tmp_path / "f.thy_output.json").write_text('{"translations": [["", "lemma x: \\"True\\""], ["s", ')
    docs, stats = run_reader(IsabellePisaReader, tmp_path, glob_pattern="*.thy_output.json")
    assert docs == [] and stats["dropped_malformed"] == 1 and stats["dropped_truncated_file"] == 1


TEXT = "[GOAL]\nn : ℕ\n⊢ n + 0 = n\n[PROOFSTEP]\nsimp\n[GOAL]\nx : ℝ\n⊢ 0 ≤ x ^ 2\n[PROOFSTEP]\npositivity\n"


def test_proofstep_text():
    steps, truncated = parse_proofstep_text(TEXT)
    assert not truncated
    assert [(s.goals, s.tactic) for s in steps] == [(["n : ℕ\n⊢ n + 0 = n"], "simp"),
                                                    (["x : ℝ\n⊢ 0 ≤ x ^ 2"], "positivity")]
    assert "\n".join(s.render() for s in steps) + "\n" == TEXT  # the export's own format, unchanged


def test_truncated_and_malformed_proofstep_text(tmp_path):
    (tmp_path / "ok.txt").write_text(TEXT)
    (tmp_path / "cut_after_goal.txt").write_text(TEXT + "[GOAL]\nx : ℝ\n⊢ x = x\n")
    (tmp_path / "cut_after_marker.txt").write_text(TEXT + "[GOAL]\nx : ℝ\n⊢ x = x\n[PROOFSTEP]\n")
    (tmp_path / "only_goal.txt").write_text("[GOAL]\nx : ℝ\n⊢ x")
    (tmp_path / "prose.txt").write_text("This is not a proofstep export.\n")
    (tmp_path / "double.txt").write_text("[GOAL]\na\n[GOAL]\nb\n[PROOFSTEP]\nsimp\n")
    (tmp_path / "latin1.txt").write_bytes("[GOAL]\n\xe9\n[PROOFSTEP]\nsimp\n".encode("latin-1"))
    docs, stats = run_reader(LeanProofstepTextReader, tmp_path)
    by_path = {d.metadata["path"]: d for d in docs}
    assert sorted(by_path) == ["cut_after_goal.txt", "cut_after_marker.txt", "ok.txt"]
    # a cut-off last block is dropped and counted; the complete blocks before it stand alone and are kept
    assert by_path["cut_after_goal.txt"].text == by_path["ok.txt"].text
    assert stats["dropped_truncated_block"] == 3
    assert stats["dropped_truncated_file"] == 1  # nothing complete at all
    assert stats["dropped_malformed"] == 2 and stats["dropped_non_utf8"] == 1
    with pytest.raises(ProofstepFormatError):
        parse_proofstep_text("[PROOFSTEP]\nsimp\n")


def test_declaration_names():
    assert declaration_name("theorem foo.bar (x : ℕ) : x = x := rfl") == ("theorem", "foo.bar")
    assert declaration_name("@[simp] protected lemma baz : True := trivial") == ("lemma", "baz")
    assert declaration_name("/-- doc -/\ntheorem mathd_algebra_10 : abs ((120 : ℝ) / 100 * 30 - 130 / 100 * 20) "
                            "= 12 := by norm_num") == ("theorem", "mathd_algebra_10")
    assert declaration_name("example : 1 = 1 := rfl") == ("example", None)
    assert declaration_name("#eval 1") == (None, None)


def test_pisa_theorems():
    data = {"translations": [
        ["state before anything", "orphan"],
        ["", "definition f where \"f = 1\""],
        ["", "lemma foo [simp]:\n  \"f = 1\""],
        ["proof (prove)\ngoal (1 subgoal):\n 1. f = 1", "by (simp add: f_def)"],
        ["", "theorem \"True\""],
        ["proof (prove)\ngoal (1 subgoal):\n 1. True", "by simp"],
        ["", "lemma (in group) inv_inv [simp]: \"inv (inv x) = x\""],
        ["", "lemma\n  assumes \"A\" shows \"A\""],
    ]}
    theorems, orphans = parse_pisa(data)
    assert orphans == 1
    assert [(t.name, len(t.steps)) for t in theorems] == [(None, 0), ("foo", 1), (None, 1), ("inv_inv", 0),
                                                          (None, 0)]
    assert theorems[0].is_theorem is False
    assert theorems[1].render() == ("[STATEMENT]\nlemma foo [simp]:\n  \"f = 1\"\n[PROOF STATE]\nproof (prove)\n"
                                    "goal (1 subgoal):\n 1. f = 1\n[PROOF STEP]\nby (simp add: f_def)")


def test_hygiene_filter_drops_benchmark_theorems_by_name_and_statement(tmp_path):
    (tmp_path / "bench.names.txt").write_text("# comment\nmathd_algebra_10\nNat.secret_lemma\n")
    (tmp_path / "other.statements.txt").write_text('lemma held_out:  "x = (x::nat)"\n')
    f = BenchmarkHygieneFilter(str(tmp_path))

    def doc(theorem=None, statement=None):
        meta = {k: v for k, v in (("theorem", theorem), ("statement", statement)) if v}
        return Document(text="t", id=str(theorem), metadata=meta)

    assert f.filter(doc("mathd_algebra_10")) == (False, "benchmark_bench")
    assert f.filter(doc("MiniF2F.mathd_algebra_10")) == (False, "benchmark_bench")  # undotted: last component
    assert f.filter(doc("Nat.secret_lemma")) == (False, "benchmark_bench")
    assert f.filter(doc("Int.secret_lemma")) is True  # dotted names must match in full
    assert f.filter(doc("mathd_algebra_100")) is True
    assert f.filter(doc(statement='lemma held_out:\n  "x = (x::nat)"')) == (False, "benchmark_other")
    assert f.filter(doc()) is True


def test_benchmark_lists_shipped():
    names, statements = benchmark_lists(LISTS)
    minif2f = read_list(LISTS / "minif2f.names.txt")
    assert len(minif2f) == len(set(minif2f)) == 488
    assert all(n == n.strip() and " " not in n and "\t" not in n for n in minif2f)
    assert {"mathd_algebra_478", "imo_1959_p1", "amc12a_2002_p6", "aime_1983_p1"} <= set(minif2f)
    assert all(names[n] == "minif2f" for n in minif2f)
    proofnet = read_list(LISTS / "proofnet.names.txt")
    assert len(proofnet) == len(set(proofnet)) == 352
    assert all(n.startswith("exercise_") and " " not in n for n in proofnet)
    assert {"exercise_1_1a", "exercise_2020_b5", "exercise_2022_IB_3_II_13G_a_i"} <= set(proofnet)
    assert names["exercise_2020_b5"] == "proofnet"
    # the placeholder lists parse (header only) and say where their names come from
    for placeholder in ("leandojo-val.names.txt", "leandojo-test.names.txt", "pisa-test.statements.txt"):
        text = (LISTS / placeholder).read_text()
        assert "PLACEHOLDER" in text and "Source to fill it from" in text
        assert read_list(LISTS / placeholder) == []
    for path in LISTS.iterdir():
        assert path.name.endswith((".names.txt", ".statements.txt")), f"{path.name} would be ignored"


def test_shipped_minif2f_list_matches_the_benchmark(shared_fixture):
    rows = shared_fixture("benchmarks/minif2f-theorem-names.tsv").read_text().splitlines()
    assert rows[0].split("\t") == ["split", "name"]
    expected = {row.split("\t")[1] for row in rows[1:]}
    assert set(read_list(LISTS / "minif2f.names.txt")) == expected


def test_assembler_groups_a_files_theorems_and_passes_others():
    def lean(path, theorem, text):
        return Document(text=text, id=f"{path}#{theorem}", metadata={
            "source": "lean-proofsteps", "path": path, "theorem": theorem, "steps": 1, "lang": "Lean"})
    isa = Document(text="[STATEMENT]\nx", id="i", metadata={"source": "isabelle-proofsteps"})
    out = list(LeanFileAssembler().run(iter([lean("A", "a1", "1"), lean("A", "a2", "2"), isa, lean("B", "b", "3")])))
    assert [(d.id, d.text) for d in out] == [("lean-proofsteps:A", "1\n2"), ("i", "[STATEMENT]\nx"),
                                            ("lean-proofsteps:B", "3")]
    assert out[0].metadata["theorems"] == ["a1", "a2"] and out[0].metadata["steps"] == 2
    assert "theorem" not in out[0].metadata


def test_parsers_never_raise_anything_but_format_errors(shared_fixture):
    """Mutate the real export at random (types swapped, keys dropped): every outcome is steps or a format error."""
    import copy
    import random
    rng = random.Random(99)
    base = json.loads(shared_fixture("proofsteps/lean-infotree-calc.json").read_text())
    junk = [None, 0, "s", [], {}, [1, "x"], {"a": 1}, True]

    def mutate(x):
        if isinstance(x, dict) and x:
            key = rng.choice(sorted(x))
            if rng.random() < 0.3:
                del x[key]
            elif rng.random() < 0.5:
                x[key] = rng.choice(junk)
            else:
                mutate(x[key])
        elif isinstance(x, list) and x:
            i = rng.randrange(len(x))
            if rng.random() < 0.4:
                x[i] = rng.choice(junk)
            else:
                mutate(x[i])

    outcomes = Counter()
    for _ in range(400):
        data = copy.deepcopy(base)
        for _ in range(rng.randint(1, 6)):
            mutate(data)
        try:
            parse_infotree(data)
            outcomes["ok"] += 1
        except ProofstepFormatError:
            outcomes["format_error"] += 1
        try:
            parse_pisa({"translations": rng.choice(junk + [[["", "lemma a: x"], ["s", 1]], [["", "lemma b"]]])})
        except ProofstepFormatError:
            pass
    assert outcomes["ok"] > 0 and outcomes["format_error"] > 0


def test_infotree_names_follow_namespaces():
    def command(source, tactic=None):
        children = []
        if tactic:
            children = [{"kind": "TacticInfo", "children": [], "node": {
                "name": "Lean.Parser.Tactic.simp", "stx": {"pp": tactic, "range": {"synthetic": False}},
                "goalsBefore": ["⊢ True"], "goalsAfter": []}}]
        return {"kind": "CommmandInfo", "node": {"stx": {"pp": source}}, "children": children}

    data = {"name": "M", "trees": [
        command("namespace Nat"),
        command("theorem a : True := by simp", "simp"),
        command("section"),
        command("namespace Foo.Bar"),
        command("theorem b : True := by simp", "simp"),
        command("end Foo.Bar"),
        command("theorem _root_.c : True := by simp", "simp"),
        command("end"),
        command("end Nat"),
        command("theorem d : True := by simp", "simp"),
    ]}
    _, theorems, _ = parse_infotree(data)
    assert [t.name for t in theorems] == ["Nat.a", "Nat.Foo.Bar.b", "c", "d"]
