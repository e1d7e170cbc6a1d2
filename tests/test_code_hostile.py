"""Minimal reproductions of the code-stage failures found on real repositories (issue 14), written here."""

import json
import os
import subprocess

from datatrove.data import Document
from test_code_helpers import PROJECT, code_config, outcomes

FILTERS = PROJECT / "filters" / "code"
MATH_PY = "import sympy\nx = sympy.Symbol('x')\nprint(sympy.integrate(x**2, x))\n"


def git(repo, *args):
    env = {**os.environ, "GIT_AUTHOR_DATE": "2020-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2020-01-01T00:00:00Z"}
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "-C", str(repo), *args], check=True,
                   capture_output=True, env=env)


def test_a_missing_git_object_is_counted_and_the_rest_kept(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "kept.py").write_text(MATH_PY)
    (repo / "lost.py").write_text(MATH_PY + "# another\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "c")
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD:lost.py"], capture_output=True, text=True,
                         check=True).stdout.strip()
    (repo / ".git" / "objects" / sha[:2] / sha[2:]).unlink()  # `git ls-tree -l` now prints its size as BAD
    result, stats, _ = outcomes(code_config(tmp_path, [{"kind": "git", "path": str(repo)}]))
    assert result == {"kept.py": "kept"}
    assert stats["dropped_git_missing_object"] == 1 and "dropped_git_unreadable_repo" not in stats


def test_a_deeply_nested_directory_is_read_without_recursion(tmp_path):
    src = tmp_path / "src"
    deep = src
    for _ in range(1200):  # deeper than Python's recursion limit (1000)
        deep = deep / "d"
        deep.mkdir(parents=deep.parent == src)
    (deep / "deep.py").write_text(MATH_PY)
    (src / "top.py").write_text(MATH_PY + "# top\n")
    try:
        result, _, _ = outcomes(code_config(tmp_path, [{"kind": "dir", "path": str(src)}]))
        assert result == {"top.py": "kept", "/".join(["d"] * 1200) + "/deep.py": "kept"}
    finally:  # removed bottom up: shutil.rmtree (pytest's clean-up) recurses too
        (deep / "deep.py").unlink()
        while deep != src:
            deep.rmdir()
            deep = deep.parent


def test_gap_tst_and_haskell_hsc_files_are_read(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "grp.tst").write_text('gap> START_TEST("grp.tst");\ngap> G := SymmetricGroup(4);;\ngap> Size(G);\n24\n'
                                 'gap> STOP_TEST("grp.tst");\n')
    (src / "Bindings.hsc").write_text("{-# LANGUAGE ForeignFunctionInterface #-}\nmodule Bindings where\n"
                                      "#include <math.h>\nimport Numeric.LinearAlgebra\n")
    _, stats, kept = outcomes(code_config(tmp_path, [{"kind": "dir", "path": str(src)}]))
    assert stats["lang/GAP/read"] == 1 and stats["lang/Haskell/read"] == 1
    assert {d.metadata["path"]: d.metadata["lang"] for d in kept} == {"grp.tst": "GAP", "Bindings.hsc": "Haskell"}


def test_a_gpl3_license_file_is_not_agpl(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "LICENSE").write_text("GNU GENERAL PUBLIC LICENSE\n Version 3, 29 June 2007\n\n13. Use with the GNU "
                                 "Affero General Public License.\n")
    (src / "a.py").write_text(MATH_PY)
    _, _, [doc] = outcomes(code_config(tmp_path, [{"kind": "dir", "path": str(src)}]))
    assert doc.metadata["license"] == "GPL-3.0"


def notebook(outputs) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"language": "python"}},
                       "cells": [{"cell_type": "code", "source": "import sympy\nsympy.sqrt(8)", "metadata": {},
                                  "outputs": outputs}]})


def test_jupyter_keeps_sympy_math_next_to_its_png_and_strips_terminal_colours():
    from proofpile.code.jupyter import JupyterToMarkdown

    step = JupyterToMarkdown()
    result = {"output_type": "execute_result", "execution_count": 1, "metadata": {},
              "data": {"image/png": "iVBORw0KGgoAAAANSUhEUg==", "text/latex": "$\\displaystyle 2 \\sqrt{2}$",
                       "text/plain": "2*sqrt(2)"}}
    plot = {"output_type": "display_data", "metadata": {},
            "data": {"image/png": "iVBORw0KGgoAAAANSUhEUg==", "text/plain": "<Figure size 640x480 with 1 Axes>"}}
    stream = {"output_type": "stream", "name": "stdout",
              "text": ["\x1b[1;31mWarning:\x1b[0m converged in \x1b[32m3\x1b[0m steps\n"]}
    doc = Document(text=notebook([result, plot, stream]), id="n", metadata={"lang": "Jupyter", "path": "n.ipynb"})
    assert step.filter(doc) is True
    assert "```output\n$\\displaystyle 2 \\sqrt{2}$\n2*sqrt(2)\n```" in doc.text
    assert "```output\nWarning: converged in 3 steps\n```" in doc.text
    assert "\x1b" not in doc.text and "iVBOR" not in doc.text and "<Figure size" not in doc.text


def test_handwritten_proofs_below_a_generated_header_are_kept(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    header = "(* This file was automatically generated by coq_makefile. Do not edit. *)\nRequire Import Arith.\n"
    (src / "Proofs.v").write_text(header + "\nTheorem add_0_r : forall n, n + 0 = n.\nProof.\n  induction n; simpl; "
                                  "auto.\nQed.\n")
    (src / "Generated.v").write_text(header + "\nDefinition x := 1.\nDefinition y := 2.\n")
    result, stats, _ = outcomes(code_config(tmp_path, [{"kind": "dir", "path": str(src)}]))
    assert result == {"Proofs.v": "kept", "Generated.v": "autogenerated"}
    assert stats["autogenerated_header_handwritten_proof"] == 1
