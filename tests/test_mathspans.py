"""The one definition of "this is math" (proofpile.mathspans), tested once with a table, and the same table run
against every consumer: the web extractor, MathScore's input, the language-ID stripper, the TeX code filter's prose
and the Jupyter notebook test. A consumer that grew its own rule again fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from proofpile import mathspans

PROJECT = Path(__file__).resolve().parents[1]

# (text, the math spans in it as (body, display)); every other "$" is prose
TABLE = [
    ("Let $x$ be a number.", [("x", False)]),
    ("so $a^2 + b^2 = c^2$ holds", [("a^2 + b^2 = c^2", False)]),
    ("with $2n$ terms", [("2n", False)]),
    ("display $$\\sum_{i=1}^n i = \\frac{n(n+1)}{2}$$ here", [("\\sum_{i=1}^n i = \\frac{n(n+1)}{2}", True)]),
    ("inline \\(a+b\\) and display \\[c=d\\]", [("a+b", False), ("c=d", True)]),
    ("\\begin{align} a &= b \\\\[2pt] c &= d \\end{align}",
     [("\\begin{align} a &= b \\\\[2pt] c &= d \\end{align}", True)]),
    ("It costs $5 and $10.", []),
    ("It costs $5 and $10, and $x$ is the count.", [("x", False)]),
    ("Mains $12-$20, wine $1,000–$2,000, or $5/$10.", []),
    ("US$5 and US$10 each", []),
    ("Price range: $$ - $$$", []),
    ("escaped \\$5 and \\$10, even \\$x\\$", []),
    ("echo $HOME/$USER and $AAPL,$MSFT", []),
    ("a lone \\[ opener\n\nand a paragraph \\] later", []),
    ("$$\nx = 1\n$$", [("\nx = 1\n", True)]),
]
TEXTS = [text for text, _ in TABLE]


@pytest.mark.parametrize("text, spans", TABLE)
def test_math_spans(text, spans):
    found = [(s.body if s.kind != "env" else s.body, s.display) for s in mathspans.find(text)]
    assert found == spans
    assert mathspans.has_math(text) == bool(spans)


@pytest.mark.parametrize("text, spans", TABLE)
def test_the_extractor_counts_and_keeps_the_same_math(text, spans):
    from proofpile.web.extract import extract_math_text

    body = text.replace("&", "&amp;").replace("<", "&lt;").replace("\n\n", "</p><p>")
    out, counts = extract_math_text(f"<html><body><p>{body}</p></body></html>")
    assert counts["math_inline"] + counts["math_display"] == len(spans), out
    assert counts["math_display"] == sum(display for _, display in spans), out
    # what it writes is math by the same definition, and each formula as $..$ / $$..$$
    assert [s.body.strip() for s in mathspans.find(out)] == [body.strip() for body, _ in spans]


@pytest.mark.parametrize("text, spans", TABLE)
def test_mathscore_sees_the_same_math(text, spans):
    from proofpile.web.mathscore import normalize

    tokens = normalize(text).split()
    assert tokens.count("__math__") == sum(not d for _, d in spans)
    assert tokens.count("__display__") == sum(d for _, d in spans)


@pytest.mark.parametrize("text, spans", TABLE)
def test_language_id_strips_the_same_math(text, spans):
    from proofpile.web.filters import strip_math

    prose = strip_math(text)
    for body, _ in spans:
        assert body.strip() not in prose
    if not spans:  # prices and escaped dollars are prose: "It costs $5 and $10" keeps "$5 and $10"
        assert prose == text


@pytest.mark.parametrize("text, spans", TABLE)
def test_the_tex_code_filter_sees_prices_as_prose(text, spans):
    from proofpile.code.filters import TeXFilter

    seen = TeXFilter(str(PROJECT / "filters" / "code" / "tex-sectioning.txt")).prose(text)  # what lid.176 reads
    for body, _ in spans:
        if len(body.strip()) > 2:
            assert body.strip() not in seen
    if not spans:
        assert "$" not in text or "$" in seen


@pytest.mark.parametrize("text, spans", TABLE)
def test_jupyter_keeps_notebooks_with_the_same_math(text, spans):
    from datatrove.data import Document

    from proofpile.code.jupyter import JupyterToMarkdown

    nb = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                     "cells": [{"cell_type": "markdown", "source": text}]})
    verdict = JupyterToMarkdown().filter(Document(text=nb, id="nb", metadata={"lang": "Jupyter"}))
    assert (verdict is True) == bool(spans), verdict
