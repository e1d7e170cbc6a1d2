"""The code stage's data files (filters/code/): each loads, says what it should, and matches what it should."""

import re

import pytest
from datatrove.data import Document
from test_code_helpers import PROJECT

from proofpile.code.data import LanguageTable, read_yaml
from proofpile.config import read_list

FILTERS = PROJECT / "filters" / "code"
LANGUAGES = ["Agda", "C", "C++", "Coq", "Fortran", "GAP", "Haskell", "Idris", "Isabelle", "Julia", "Jupyter", "Lean",
             "Maple", "MATLAB", "Python", "R", "TeX"]


def doc(text, lang, path="x"):
    return Document(text=text, id=path, metadata={"lang": lang, "path": path})


@pytest.mark.parametrize("name", sorted(p.name for p in FILTERS.glob("*.txt")))
def test_lists_are_clean(name):
    items = read_list(FILTERS / name)
    assert items, f"{name} is empty"
    assert len(items) == len(set(items)), f"{name} has duplicates"
    for item in items:
        assert "," not in item or name.endswith("markers.txt"), f"{name}: {item!r} looks like two items"
        if name.endswith("markers.txt"):
            re.compile(item)  # regexes
        else:
            assert not re.search(r"\s", item), f"{name}: {item!r} has whitespace"


def test_language_table():
    table = LanguageTable.load(FILTERS / "languages.yaml")
    assert sorted(table.slugs) == sorted(LANGUAGES)
    assert len(set(table.slugs.values())) == 17
    assert table.extension_of("a/B.LAGDA.TEX") == "lagda.tex"
    assert table.extension_of("x.tex") == "tex" and table.extension_of("Makefile") is None
    assert table.detect("x.R", "") == "R" and table.detect("x.ipynb", "{}") == "Jupyter"
    for ext, rules in table.disambiguation.items():
        assert rules[-1].pattern is None, f".{ext}: the last rule must be the fallback"
    assert table.detect("", "", "Jupyter Notebook") == "Jupyter"
    assert table.detect("", "", "Lean") == "Lean" and table.detect("", "", "Objective-C") == "Objective-C"
    assert table.detect("", "") is None


@pytest.mark.parametrize("path,text,lang", [
    ("a.m", "function y = f(x)\n  y = x.^2; % square\nend\n", "MATLAB"),
    ("a.m", "#import <Foundation/Foundation.h>\nint main() {}\n", "Objective-C"),
    ("a.m", "@interface Foo : NSObject\n@end\n", "Objective-C"),
    ("a.m", ":- module fib.\n:- interface.\n", "Mercury"),
    ("a.m", "(* Mathematica *)\nf[x_] := x^2\n", "Mathematica"),
    ("a.v", "Theorem t : True.\nProof. exact I. Qed.\n", "Coq"),
    ("a.v", "Module M.\n  Definition x := 1.\nEnd M.\n", "Coq"),  # Coq's Module is capitalised
    ("a.v", "module top(input clk);\nendmodule\n", "Verilog"),
    ("a.h", "#include <stdio.h>\nint f(void);\n", "C"),
    ("a.h", "namespace n { int f(); }\n", "C++"),
    ("a.h", "template <class T> T id(T x);\n", "C++"),
    ("a.g", "f := function(x) return x^2; end;\n", "GAP"),
    ("a.g", "grammar Calc;\nexpr : INT ;\n", "ANTLR"),
    ("a.g", "G1 X10 Y10\n", "G-code"),
    ("a.g", "just some words\n", "unknown"),
    ("a.pl", "parent(a, b).\nanc(X, Y) :- parent(X, Y).\n", "Prolog"),
    ("a.pl", "use strict;\nmy $x = 1;\n", "Perl"),
    ("a.pro", "QT += core\nSOURCES += a.cpp\n", "QMake"),
    ("a.pro", "pro hello\n  print, 'hi'\nend\n", "IDL"),
    ("tst/grp.tst", "gap> START_TEST(\"grp.tst\");\ngap> Size(SymmetricGroup(4));\n24\n", "GAP"),
    ("a.tst", "gap> 1 + 1;\n2\n", "GAP"),
    ("a.tst", "// Scilab test\ndisp(1 + 1);\n", "Scilab"),
    ("a.tst", "expected output 42\n", "unknown"),
    ("Bindings.hsc", "#include <math.h>\nmodule Bindings where\nimport Foreign.C\n", "Haskell"),
])
def test_disambiguation_rules(path, text, lang):
    assert LanguageTable.load(FILTERS / "languages.yaml").detect(path, text) == lang


def test_rules_yaml():
    rules = read_yaml(FILTERS / "rules.yaml")
    assert rules["max_bytes"] == 1048575
    assert rules["digit_density"] == {"default": 0.5, "C++": 0.1}
    assert rules["maple_max_bytes"] == 100000
    assert rules["jupyter_max_read_bytes"] > rules["max_bytes"]
    assert set(rules["julia"]) == {"large_bytes", "min_tests_if_large"}
    assert 0 < rules["tex"]["min_english"] < 1
    assert 500 <= rules["tex"]["prose_chars"] <= 5000  # lid.176 needs a paragraph or two, not a page
    assert 200 <= rules["tex"]["quick_chars"] < rules["tex"]["prose_chars"]
    assert rules["tex"]["min_english"] <= rules["tex"]["quick_sure"] < 1  # sure is surer than the threshold


def test_vendored_dirs():
    dirs = set(read_list(FILTERS / "vendored-dirs.txt"))
    assert {"vendor", "third_party", "node_modules", "build", "dist", ".git", ".lake", ".ipynb_checkpoints"} <= dirs
    assert "src" not in dirs and "lib" not in dirs  # real code lives there


def test_python_imports():
    from proofpile.code.filters import PythonFilter

    assert len(read_list(FILTERS / "python-math-imports.txt")) == 17
    f = PythonFilter(FILTERS / "python-math-imports.txt")
    for text in ("import numpy", "import numpy as np", "from scipy.linalg import eigh", "import os, sympy",
                 "import jax.numpy as jnp", "from sage.all import *", "    import networkx as nx",
                 "import os as o, mpmath"):
        assert f.filter(doc(text + "\n", "Python")) is True, text
    for text in ("import numpyro", "# import numpy", "x = 'import numpy'", "import os\nprint('numpy')",
                 "from mynumpy import x"):
        assert f.filter(doc(text + "\n", "Python")) == (False, "python_no_math_import"), text
    assert f.filter(doc('["import numpy"]', "Python")) == (False, "python_json_like")
    assert f.filter(doc("anything", "Lean")) is True  # other languages pass


def test_c_and_cpp_includes():
    from proofpile.code.filters import CFilter, CppFilter

    c = CFilter(FILTERS / "c-math-includes.txt")
    for inc in ("<fftw3.h>", "<gsl/gsl_matrix.h>", '"cblas.h"', "<lapacke.h>", "<nlopt.h>", "<petscksp.h>"):
        assert c.filter(doc(f"#include {inc}\n", "C")) is True, inc
    assert c.filter(doc("/* uses gsl */\n#include <stdio.h>\n", "C")) == (False, "c_no_math_include")
    cpp = CppFilter(FILTERS / "cpp-math-includes.txt")
    for inc in ("<Eigen/Dense>", "<boost/math/special_functions.hpp>", "<armadillo>", "<NTL/ZZ.h>",
                "<deal.II/grid/tria.h>", "<dlib/optimization.h>", "<blitz/array.h>", '"alglib/linalg.h"'):
        assert cpp.filter(doc(f"#include {inc}\n", "C++")) is True, inc
    for inc in ("<boost/asio.hpp>", "<boost/filesystem.hpp>", "<vector>"):
        assert cpp.filter(doc(f"#include {inc}\n", "C++")) == (False, "cpp_no_math_include"), inc


def test_haskell_imports():
    from proofpile.code.filters import HaskellFilter

    f = HaskellFilter(FILTERS / "haskell-math-imports.txt")
    for text in ("import Numeric.LinearAlgebra", "import qualified Numeric.LinearAlgebra.Data as D",
                 "import Statistics.Distribution.Normal", "import Data.Complex (Complex(..))", "> import Data.Complex"):
        assert f.filter(doc(text + "\n", "Haskell")) is True, text
    for text in ("import Data.ComplexStuff", "import Data.Map", "-- import Data.Complex"):
        assert f.filter(doc(text + "\n", "Haskell")) == (False, "haskell_no_math_import"), text


def test_prover_keywords():
    from proofpile.code.filters import CoqFilter, IsabelleFilter, LeanFilter

    lean = LeanFilter(FILTERS / "lean-keywords.txt")
    for text in ("theorem t : True := trivial", "@[simp] lemma l : 1 = 1 := rfl", "private theorem p : True := ⟨⟩",
                 "example : 1 + 1 = 2 := rfl", "@[simp]\ntheorem t : True := trivial"):
        assert lean.filter(doc(text + "\n", "Lean")) is True, text
    for text in ("-- a lemma about rings\ndef f := 1", "/-- the theorem below -/\ndef g := 2"):
        assert lean.filter(doc(text + "\n", "Lean")) == (False, "lean_no_theorem"), text
    coq = CoqFilter(FILTERS / "coq-keywords.txt")
    assert coq.filter(doc("Local Definition x := 1.\n", "Coq")) is True
    assert coq.filter(doc("#[export] Instance i : C := {}.\n", "Coq")) is True
    assert coq.filter(doc("(* Theorem in a comment *)\nNotation \"a\" := b.\n", "Coq")) == (False, "coq_no_keywords")
    isa = IsabelleFilter(FILTERS / "isabelle-keywords.txt")
    assert isa.filter(doc("corollary c: \"True\" by simp\n", "Isabelle")) is True
    assert isa.filter(doc("definition d where \"d = 1\"\n", "Isabelle")) == (False, "isabelle_no_theorem")


def test_tex_sectioning_and_english():
    from proofpile.code.filters import TeXFilter

    f = TeXFilter(FILTERS / "tex-sectioning.txt", 0.5)
    english = "We prove that every bounded monotone sequence of real numbers converges to its supremum. " * 3
    assert f.filter(doc(f"\\section*{{Intro}}\n{english}", "TeX", "a.tex")) is True
    assert f.filter(doc(f"\\subsection[short]{{Intro}}\n{english}", "TeX", "a.tex")) is True
    assert f.filter(doc(english, "TeX", "a.tex")) == (False, "tex_no_sectioning")
    assert f.filter(doc(f"\\sectionmark{{x}}\n{english}", "TeX", "a.tex")) == (False, "tex_no_sectioning")
    assert f.filter(doc(f"\\section{{x}}\n{english}", "TeX", "a.sty")) == (False, "tex_extension")
    import pickle

    f.english("warm the model")
    assert pickle.loads(pickle.dumps(f)).lid._model is None  # the fastText model is not pickled to workers


ENGLISH = ("We prove that every bounded monotone sequence of real numbers converges to its supremum, and we "
           "show how the same argument gives the existence of limits of Cauchy sequences in complete spaces. ")
GERMAN = ("Wir beweisen, dass jede beschränkte monotone Folge reeller Zahlen gegen ihr Supremum konvergiert, und "
          "zeigen, wie dasselbe Argument die Existenz von Grenzwerten von Cauchy-Folgen liefert. ")


def test_tex_english_is_judged_on_the_prose_from_the_first_section_on():
    """The first ``prose_chars`` of prose after the first sectioning command decide: an appendix in another
    language does not turn a paper around, and a preamble and title block of names do not count."""
    from proofpile.code.filters import TeXFilter

    f = TeXFilter(FILTERS / "tex-sectioning.txt", 0.5, prose_chars=1000)
    appendix = lambda text: "\\appendix\n\\section{Anhang}\n" + text * 200  # noqa: E731  (~35 KB)
    assert f.filter(doc(f"\\section{{Intro}}\n{ENGLISH * 8}{appendix(GERMAN)}", "TeX", "a.tex")) is True
    assert f.filter(doc(f"\\section{{Einleitung}}\n{GERMAN * 8}{appendix(ENGLISH)}", "TeX", "a.tex")) == \
        (False, "tex_not_english")
    # a long preamble and a title block of non-English names and places, then English sections
    preamble = "\\usepackage{amsmath}\n\\newtheorem{satz}{Satz}\n" * 60
    title = "\\author{José Ramírez Gómez, Universidad Nacional de Colombia, Medellín}\n" * 20
    text = f"\\documentclass{{amsart}}\n{preamble}\\begin{{document}}\n{title}\\section{{Intro}}\n{ENGLISH * 8}"
    assert f.english(text, 0) < 0.5 < f.english(text, text.index("\\section"))
    assert f.filter(doc(text, "TeX", "a.tex")) is True
    # the prose judged is bounded, whatever the file's size
    assert len(f.prose(f"\\section{{Intro}}\n{ENGLISH * 5000}")) == 1000


def test_tex_english_window_never_cuts_a_formula_in_two():
    """A long display formula across the end of the first window of text read for the prose: cut in two, its body
    would be read as prose (and an English paper judged not English); with or without blank lines around it."""
    from proofpile.code.filters import TeXFilter

    f = TeXFilter(FILTERS / "tex-sectioning.txt", 0.5, prose_chars=1000)
    rows = " \\\\\n".join(f"f_{{{i}}}(x) &= \\sum_{{k=0}}^{{\\infty}} a_{{k,{i}}} x^k + \\int_0^1 g_{{{i}}}(t)\\,dt"
                         for i in range(40))
    align = f"\\begin{{align}}\n{rows}\n\\end{{align}}\n"  # ~2.9 KB, across character 2,048
    for blank in ("", "\n"):
        text = f"\\section{{Intro}}\nWe study the series below.\n{blank}{align}{blank}{ENGLISH * 10}"
        assert len(align) > 2048 and f.english(text) > 0.8, blank
        assert f.filter(doc(text, "TeX", "a.tex")) is True


def test_tex_prose_read_a_chunk_at_a_time_is_the_prose_of_the_whole_window():
    """The prose is built a chunk of text at a time, stopping once it is long enough: it is the start of the prose of
    the whole window, also where a command's optional argument runs across formulas (``\\cite[$p$ 3, $q$]``) and
    where one is never closed."""
    from proofpile import mathspans
    from proofpile.code.filters import _TEX_COMMAND, TeXFilter, _blank_tex_specials

    def whole(text: str, chars: int) -> str:  # the definition: the prose of the whole text, then its start
        return " ".join(_blank_tex_specials(_TEX_COMMAND.sub(" ", mathspans.strip(text))).split())[:chars]

    pieces = ["Let $x^2$ be given, see \\cite[$p$ 3, and $q$ too] for ", "the proof $y_1$ of it; ", "\\item[$a$ ",
              "and $b$ words] here $z$ again ", "\\emph{words} $$w=1$$ more ", "\\ref[open $t$ never closed "]
    for chars in (1, 10, 40, 100, 1000):
        for i in range(len(pieces)):
            text = "".join(pieces[i:] + pieces[:i]) * 30
            assert TeXFilter(FILTERS / "tex-sectioning.txt", prose_chars=chars).prose(text) == whole(text, chars)


def test_language_rules_judge_a_batch_as_each_document_alone():
    """The language rules step has TeX's English check judge a batch's TeX documents from one lid.176 call
    (``prepare``): the same documents kept, in the same order, with the same counts, as each judged alone, whatever
    the batch boundaries; a document the batch did not prepare is still judged."""
    from proofpile.code.filters import LanguageFilters, PythonFilter, TeXFilter

    def rules():
        return LanguageFilters(PythonFilter(FILTERS / "python-math-imports.txt"),
                               TeXFilter(FILTERS / "tex-sectioning.txt", 0.5, prose_chars=1000))

    texts = [(f"\\section{{Intro}}\n{ENGLISH * 4}", "TeX", "a.tex"), (f"\\section{{E}}\n{GERMAN * 4}", "TeX", "b.tex"),
             ("import numpy as np\n", "Python", "c.py"), ("x = 1\n", "Python", "d.py"), (ENGLISH, "TeX", "e.tex"),
             (f"\\section{{Intro}}\n{ENGLISH}", "TeX", "f.sty"), ("\\section{x}\n$$ $$", "TeX", "g.tex"),
             (f"\\section{{I}}\n{ENGLISH}", "Julia", "h.jl")]
    docs = lambda: [Document(text=t, id=str(i), metadata={"lang": lang, "path": path})  # noqa: E731
                    for i, (t, lang, path) in enumerate(texts * 5)]
    alone = rules()
    expected = [d.id for d in docs() if alone.filter(d) is True]
    assert len(expected) == 5 * 3 and "0" in expected and "1" not in expected  # English kept, German dropped
    for batch_docs, lid_calls in ((1, 15), (3, 10), (1024, 1)):  # lid.176 once per batch holding an English check
        step = rules()
        step.batch_docs = batch_docs
        model, calls = step.rules["TeX"].lid.get(), []
        step.rules["TeX"].lid.get = lambda: model  # the real model, its calls counted
        predict = model.predict
        model.predict = lambda texts, **kw: calls.append(len(texts)) or predict(texts, **kw)
        assert [d.id for d in step.run(iter(docs()))] == expected
        assert len(calls) == lid_calls and sum(calls) == 15, calls
        counts = {k: v.total for k, v in step.stats.stats.items() if not k.startswith("time")}
        assert counts["dropped_tex_not_english"] == 10 and counts["dropped_tex_no_sectioning"] == 5, counts
        assert counts["dropped_tex_extension"] == 5 and counts["dropped_python_no_math_import"] == 5, counts
        assert counts["total"] == 35 and counts["forwarded"] == 10, counts  # (Julia: no rule here, uncounted)
    tex = rules().rules["TeX"]
    tex.prepare(docs()[:2])  # prepared for other documents: this one is judged on its own
    assert tex.filter(docs()[1]) == (False, "tex_not_english")


def test_tex_quick_look_decides_plain_files_and_reads_on_for_the_others():
    """With a quick look, lid.176 first reads the prose's first ``quick_chars``: a file plainly in one language is
    decided there (one short read), a file it is unsure of is read to ``prose_chars`` as without the quick look, and
    a prose no longer than the quick look is read once. Settings that could decide otherwise than the whole prose
    are refused, naming the key."""
    from proofpile.code.filters import TeXFilter

    quick = TeXFilter(FILTERS / "tex-sectioning.txt", 0.5, prose_chars=1000, quick_chars=300, quick_sure=0.9)
    whole = TeXFilter(FILTERS / "tex-sectioning.txt", 0.5, prose_chars=1000)
    model, reads = quick.lid.get(), []
    predict = model.predict
    model.predict = lambda texts, **kw: reads.append([len(t) for t in texts]) or predict(texts, **kw)
    quick.lid.get = lambda: model
    english, german = f"\\section{{Intro}}\n{ENGLISH * 8}", f"\\section{{E}}\n{GERMAN * 8}"
    # a few German words, then English: lid.176 is unsure on the first 300 characters, English on 1,000
    mixed = f"\\section{{Intro}}\n{GERMAN[:60]} {ENGLISH * 8}"
    assert quick.english_scores([(english, 0), (german, 0)]) == pytest.approx(
        [whole.english(english), whole.english(german)], abs=0.1)
    assert reads == [[300, 300]]  # both decided on the quick look
    reads.clear()
    scores = quick.english_scores([(mixed, 0), ("\\section{A} Short English words here.", 0)])
    assert reads[0][1] < 300 and len(reads) == 2 and reads[1] == [1000], reads  # the unsure one read on
    assert scores[0] == whole.english(mixed) > 0.5 and quick.filter(doc(mixed, "TeX", "m.tex")) is True
    for kwargs, key in (({"quick_chars": 1000}, "tex.quick_chars"), ({"quick_chars": 300, "quick_sure": 0.4},
                        "tex.quick_sure"), ({"quick_chars": 300, "quick_sure": 1.2}, "tex.quick_sure")):
        with pytest.raises(ValueError, match=key):
            TeXFilter(FILTERS / "tex-sectioning.txt", 0.5, prose_chars=1000, **kwargs)


def test_tex_english_on_a_real_paper(shared_fixture):
    """A real arXiv paper (a long preamble of macros, then a title block of Spanish names and places): English."""
    from proofpile.code.filters import TeXFilter

    text = shared_fixture("arxiv/1707.08043/main.tex").read_text("latin-1")
    f = TeXFilter(FILTERS / "tex-sectioning.txt", 0.5, prose_chars=1000)
    assert f.filter(doc(text, "TeX", "main.tex")) is True
    assert f.english(text, text.index("\\begin{document}")) < 0.5  # the title block alone would have dropped it


def test_autogenerated_markers():
    from proofpile.code.filters import AutogeneratedFilter

    f = AutogeneratedFilter(FILTERS / "autogenerated-markers.txt", 10)
    for head in ("// Code generated by protoc-gen-go. DO NOT EDIT.", "# This file is auto-generated",
                 "% Last Modified by GUIDE v2.5", "-- AUTOGENERATED FILE", "/* Automatically generated */"):
        assert f.filter(doc(head + "\nx = 1\n", "C")) == (False, "autogenerated"), head
    body = "x = 1\n" * 20 + "# the generated by the solver table is below\n"
    assert f.filter(doc(body, "C")) is True  # only the header counts
    assert f.filter(doc("# We generate primes.\n", "Python")) is True
    assert f.filter(doc('"""Wrappers.\n\n* signatures are generated by inspect\n"""\n', "Python")) is True
    assert f.filter(doc("# Generated by Django 4.2 on 2023-05-01\n", "Python")) == (False, "autogenerated")
    assert f.filter(doc("# This module was generated from the IDL\n", "Python")) == (False, "autogenerated")


def test_licenses_yaml():
    data = read_yaml(FILTERS / "licenses.yaml")
    ids = [e["spdx"] for e in data["licenses"]]
    assert len(ids) == len(set(ids))
    assert {"MIT", "Apache-2.0", "GPL-3.0", "GPL-2.0", "BSD-3-Clause", "BSD-2-Clause"} <= set(ids)
    # more specific licenses come first: LGPL/AGPL texts also say "General Public License"
    assert ids.index("LGPL-3.0") < ids.index("GPL-3.0") and ids.index("AGPL-3.0") < ids.index("GPL-3.0")
    assert ids.index("BSD-3-Clause") < ids.index("BSD-2-Clause")
