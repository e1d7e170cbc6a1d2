"""Our MathML -> LaTeX converter (:mod:`proofpile.web.mathml`) against pandoc's texmath, on the same formulas.

Formulas: every ``<math>`` of the development set (../shared/fixtures/html/dev) that carries its TeX in an
``application/x-tex``/``TeX`` annotation (Wikipedia, LaTeXML, KaTeX, the Greek zeta page). The annotation is
removed, the presentation MathML converted by both, and each output compared with the annotation token by token
(``difflib`` ratio of TeX tokens; renderer-only tokens such as ``\\left``, ``\\displaystyle``, braces and the
environment names of aligned rows ignored on both sides; ``\\lvert``/``\\mid``/``|`` read alike).

- ``mathml_vs_texmath``: our mean token similarity / texmath's (goal >= 1: keep whichever is better);
  ``detail`` has both similarities and the share of formulas each gets token-exact.

texmath runs as Debian's ``pandoc -f html -t markdown`` (one process for all formulas). Skipped with a reason when
``pandoc`` or ../shared is absent.
"""

from __future__ import annotations

import difflib
import html as htmllib
import re
import shutil
import subprocess

from proofpile.bench import figure
from proofpile.bench.web_devset import DEV, _unwrap, manifest, read_page

_TEX_ENCODINGS = ("application/x-tex", "tex")
_RENDERING = re.compile(
    r"\\(?:left|right|big|Big|bigg|Bigg|bigl|bigr|Bigl|Bigr|mathrm|operatorname|displaystyle|textstyle|"
    r"scriptstyle|text|mathbf|mathit|mathnormal|boldsymbol|limits|nolimits)(?![A-Za-z])|\\[,;:! ]|\\q?quad"
    r"|\\begin\{\w+\*?\}(?:\{[rlc|]*\})?|\\end\{\w+\*?\}|&|\\\\|~")
_SAME = ((re.compile(r"\\(?:lvert|rvert|mid|vert)(?![A-Za-z])"), "|"),
         (re.compile(r"\\Longleftrightarrow(?![A-Za-z])"), r"\\iff"),
         (re.compile(r"\\le(?![A-Za-z])"), r"\\leq"), (re.compile(r"\\ge(?![A-Za-z])"), r"\\geq"),
         (re.compile(r"\\land(?![A-Za-z])"), r"\\wedge"))
_TOKEN = re.compile(r"\\[A-Za-z]+|[A-Za-z0-9]|[^\s{}A-Za-z0-9.]")


def tokens(tex: str) -> list[str]:
    tex = _unwrap(htmllib.unescape(tex))
    for pattern, replacement in _SAME:
        tex = pattern.sub(replacement, tex)
    return _TOKEN.findall(_RENDERING.sub(" ", tex))


def similarity(predicted: str, reference: str) -> tuple[float, bool]:
    a, b = tokens(predicted), tokens(reference)
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio(), a == b


def annotated_formulas() -> list[tuple[str, str]]:
    """(reference TeX, MathML without its annotations) for each annotated <math> of the development set."""
    from resiliparse.parse.html import HTMLTree

    cases = []
    for entry in manifest():
        page = read_page(entry)
        if "<math" not in page:
            continue
        for math in HTMLTree.parse(page).document.query_selector_all("math").values():
            reference = None
            for annotation in list(math.get_elements_by_tag_name("annotation")):
                if (annotation.getattr("encoding") or "").lower() in _TEX_ENCODINGS and annotation.text:
                    reference = annotation.text.strip()
            for node in [*math.get_elements_by_tag_name("annotation"), *math.get_elements_by_tag_name("annotation-xml")]:
                if node.parent is not None:
                    node.remove()
            if reference:
                cases.append((reference, math.html))
    return cases


def ours(mathml_sources: list[str]) -> list[str]:
    from resiliparse.parse.html import HTMLTree

    from proofpile.web import mathml

    return [mathml.convert(HTMLTree.parse(f"<body>{src}</body>").body.query_selector("math"))
            for src in mathml_sources]


def texmath(mathml_sources: list[str]) -> list[str]:
    page = "".join(f"<p>CASE{i}START {src} CASE{i}END</p>" for i, src in enumerate(mathml_sources))
    out = subprocess.run(["pandoc", "-f", "html", "-t", "markdown", "--wrap=none"], input=page,
                         capture_output=True, text=True, check=True).stdout
    results = []
    for i in range(len(mathml_sources)):
        m = re.search(rf"CASE{i}START\s*(.*?)\s*CASE{i}END", out, re.S)
        results.append(m.group(1).strip().strip("$") if m else "")
    return results


def run(workdir) -> list[dict]:
    if not (DEV / "manifest.jsonl").is_file():
        print(f"  skipped: {DEV} is absent (the development set is real data in ../shared)")
        return []
    if shutil.which("pandoc") is None:
        print("  skipped: pandoc (texmath, the baseline) is not installed: apt-get install pandoc")
        return []
    cases = annotated_formulas()
    sources = [src for _, src in cases]
    scores = {}
    for name, predictions in (("ours", ours(sources)), ("texmath", texmath(sources))):
        results = [similarity(p, ref) for p, (ref, _) in zip(predictions, cases)]
        scores[name] = {"mean_similarity": round(sum(r[0] for r in results) / len(results), 4),
                        "exact": round(sum(r[1] for r in results) / len(results), 4)}
    return [figure("mathml_vs_texmath", scores["ours"]["mean_similarity"] / scores["texmath"]["mean_similarity"],
                   "x", "pandoc texmath (pandoc -f html)", goal=">= 1", formulas=len(cases), **scores)]
