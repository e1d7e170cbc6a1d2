"""Rules without a list of their own: sizes, digit density, R, Maple, Julia, MATLAB, notebooks."""

import json

from datatrove.data import Document
from test_code_helpers import PROJECT

FILTERS = PROJECT / "filters" / "code"


def doc(text, lang, path="x"):
    return Document(text=text, id=path, metadata={"lang": lang, "path": path})


def test_digit_density_per_language():
    from proofpile.code.filters import DigitDensityFilter

    f = DigitDensityFilter({"default": 0.5, "C++": 0.1}, {"C++": "cpp", "Fortran": "fortran"})
    text = "x = [1, 2, 3]\n"  # 3 digits / 11 non-whitespace characters = 0.27
    assert f.filter(doc(text, "Fortran")) is True
    assert f.filter(doc(text, "C++")) == (False, "cpp_digit_density")
    assert f.filter(doc("1234 5678 x\n", "Fortran")) == (False, "fortran_digit_density")
    assert f.stats["lang/C++/dropped/cpp_digit_density"].total == 1  # counted per language for the table


def test_size_filter_counts_utf8_bytes():
    from proofpile.code.filters import SizeFilter

    f = SizeFilter(10)
    assert f.filter(doc("aaaaaaaaaa", "C")) is True
    assert f.filter(doc("ééééé" + "a", "C")) == (False, "too_large")  # 6 characters, 11 bytes


def test_r_rules():
    from proofpile.code.filters import RFilter

    f = RFilter()
    assert f.filter(doc("x <- rnorm(10)\n", "R", "a/b.R")) is True
    assert f.filter(doc("x <- 1\n", "R", "a/._b.R")) == (False, "r_resource_fork")
    assert f.filter(doc('<?xml version="1.0"?>\n<a/>', "R")) == (False, "r_xml")
    assert f.filter(doc('{"a": 1}', "R")) == (False, "r_json_like")


def test_maple_rules():
    from proofpile.code.filters import MapleFilter

    f = MapleFilter(100)
    assert f.filter(doc("int(x, x);\n", "Maple")) is True
    assert f.filter(doc("x := 1;\n" * 20, "Maple")) == (False, "maple_too_large")
    assert f.filter(doc("<Worksheet>\n</Worksheet>\n", "Maple")) == (False, "maple_xml")


def test_julia_rules():
    from proofpile.code.filters import JuliaFilter

    f = JuliaFilter(large_bytes=200, min_tests_if_large=3)
    assert f.filter(doc("f(x) = x^2\n", "Julia")) is True
    for start in ("%", "{", "["):
        assert f.filter(doc(start + " data\n", "Julia")) == (False, "julia_data_like")
    big = "const T = (" + "1.0, " * 60 + ")\n"
    assert f.filter(doc(big, "Julia")) == (False, "julia_large_not_tests")
    tests = "using Test\n" + "@test f(1) == 1\n" * 20
    assert f.filter(doc(tests, "Julia")) is True


def test_matlab_c_like():
    from proofpile.code.filters import MatlabFilter

    f = MatlabFilter()
    assert f.filter(doc("x = linspace(0, 1);\nplot(x, x.^2)\n", "MATLAB")) is True
    assert f.filter(doc("#define N 3\n", "MATLAB")) == (False, "matlab_c_like")
    assert f.filter(doc("int main(void) { return 0; }\n", "MATLAB")) == (False, "matlab_c_like")


def _nb(cells, **extra):
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells, **extra})


def test_notebooks():
    from proofpile.code.jupyter import JupyterToMarkdown

    f = JupyterToMarkdown()
    assert f.filter(doc("{not json", "Jupyter")) == (False, "jupyter_not_json")
    assert f.filter(doc("[1, 2]", "Jupyter")) == (False, "jupyter_not_nbformat")
    assert f.filter(doc('{"cells": []}', "Jupyter")) == (False, "jupyter_not_nbformat")  # no nbformat version
    assert f.filter(doc(_nb([{"source": "x"}]), "Jupyter")) == (False, "jupyter_not_nbformat")  # no cell_type
    assert f.filter(doc(_nb([]), "Jupyter")) == (False, "jupyter_no_math")
    d = doc(_nb([{"cell_type": "markdown", "source": ["Let ", "$a^2 + b^2 = c^2$."]},
                 {"cell_type": "code", "source": "a = 3", "outputs": [
                     {"output_type": "execute_result", "data": {"text/plain": "3", "text/html": "<b>3</b>"}}]}],
                metadata={"kernelspec": {"language": "julia"}}), "Jupyter")
    assert f.filter(d) is True
    assert d.text == "Let $a^2 + b^2 = c^2$.\n\n```julia\na = 3\n```\n\n```output\n3\n```\n"
    assert d.metadata["kernel_language"] == "julia"
    # nbformat 3: cells live in worksheets, code in "input"
    v3 = json.dumps({"nbformat": 3, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "language": "python", "input": ["import sympy\n", "sympy.sqrt(8)"], "outputs": []}]}]})
    d3 = doc(v3, "Jupyter")
    assert f.filter(d3) is True and "import sympy" in d3.text
    assert f.filter(doc("{not json", "Python")) is True  # other languages pass
