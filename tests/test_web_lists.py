"""The web stage's data files in filters/web/: each parses, has no accidental merges, and does its job."""

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from proofpile.config import read_list
from proofpile.web.prefilter import MarkerMatcher

FILTERS = Path(__file__).resolve().parents[1] / "filters" / "web"


def test_read_list_skips_comments_and_blanks(tmp_path):
    p = tmp_path / "l.txt"
    p.write_text("# comment\n\n  alpha  \nbeta # not a comment mid-line\n")
    assert read_list(p) == ["alpha", "beta # not a comment mid-line"]


def test_math_markers_list():
    markers = read_list(FILTERS / "math-markers.txt")
    assert len(markers) == len(set(markers)) >= 20
    for must in ("mathjax", "katex", "<math", "math-container", "latex.php", "codecogs", "tex.cgi", 'class="tex"'):
        assert must in markers
    # no marker so short or common that every page would pass
    assert all(len(m) >= 4 for m in markers)
    for common in ("<script", "math", "class=", "<div", "tex"):
        assert common not in markers
    matcher = MarkerMatcher(markers)
    assert matcher.first('<script src="https://cdn.jsdelivr.net/npm/MathJax@3/es5/tex-chtml.js">') == "mathjax"
    assert matcher.first('<img src="https://latex.codecogs.com/gif.latex?x^2">') is not None
    assert matcher.first("<p>Mathematics department seminar, room 3</p>") is None


def test_latex_commands_list():
    commands = read_list(FILTERS / "latex-commands.txt")
    assert len(commands) == len(set(commands)) >= 30
    # each entry is exactly one command (a missing newline would glue two together)
    for c in commands:
        assert re.fullmatch(r"\\[A-Za-z]+(\{[a-z]+|[()\[\]]|\\[{}])?", c), c
    matcher = MarkerMatcher([], commands)
    assert matcher.first(r"<p>so \frac{a}{b} is</p>") == "\\frac"
    assert matcher.first(r"<p>C:\summary\integration</p>") is None  # \sum, \int only as whole commands
    assert matcher.first(r"\begin{align} x &= 1 \end{align}") == "\\begin{align"


def test_url_blocklist_list():
    domains = read_list(FILTERS / "url-blocklist.txt")
    assert domains and len(domains) == len(set(domains))
    for d in domains:
        assert re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", d), d


def test_mathscore_training_set():
    rows = [orjson.loads(line) for line in (FILTERS / "mathscore-train.jsonl").read_bytes().splitlines()]
    labels = [r["label"] for r in rows]
    assert set(labels) == {"math", "other"}
    assert 200 <= labels.count("math") and 200 <= labels.count("other")
    assert len({r["text"] for r in rows}) == len(rows)
    # the shop/news side mentions prices: "$5" must be learned as not-math
    assert any("$" in r["text"] for r in rows if r["label"] == "other")
    # math is mostly TeX; some is puzzles and word problems in plain text
    math = [r["text"] for r in rows if r["label"] == "math"]
    assert sum("$" in t for t in math) >= 0.75 * len(math)


def test_mathscore_training_set_is_reproducible():
    from proofpile.samples.web.make_mathscore_train import generate

    lines = (FILTERS / "mathscore-train.jsonl").read_bytes().splitlines()
    assert [orjson.loads(line) for line in lines] == generate()


def _real_rows() -> list[dict]:
    return [orjson.loads(line) for line in (FILTERS / "mathscore-real.jsonl").read_bytes().splitlines()]


def test_mathscore_real_text():
    from proofpile import mathspans

    assert (FILTERS / "mathscore-real.jsonl").stat().st_size < 1_000_000
    rows = _real_rows()
    labels = [r["label"] for r in rows]
    assert labels.count("math") >= 200 and labels.count("other") >= 100
    assert len({r["text"] for r in rows}) == len(rows)
    for r in rows:  # math by the one definition MathScore reads it with: formulas on one side only
        formulas = sum(1 for _ in mathspans.find(r["text"]))
        assert (formulas >= 2) if r["label"] == "math" else (formulas == 0), r["source"]
    # every source is listed with its license in the README, and its license text ships beside the data
    readme = (FILTERS / "README.md").read_text()
    licenses = (FILTERS / "mathscore-real-LICENSES.txt").read_text()
    dists = {re.fullmatch(r"(\w+) [\d.]+: [\w.]+", r["source"]).group(1) for r in rows}
    assert dists == {"scipy", "numpy", "networkx", "python"}
    for dist in dists:
        assert f"| `{dist}` |" in readme and f"== {dist}\n" in licenses, dist


def test_mathscore_real_text_is_reproducible():
    from importlib.metadata import version

    rows = _real_rows()
    recorded = {r["source"].split(":")[0] for r in rows}
    installed = {f"python {sys.version_info[0]}.{sys.version_info[1]}" if d == "python" else f"{d} {version(d)}"
                 for d in {s.split()[0] for s in recorded}}
    if recorded != installed:
        pytest.skip(f"the file was made from {sorted(recorded)}, this machine has {sorted(installed)}")
    # in a fresh interpreter, as the script runs: which names a module lists depends on what else was imported
    made = subprocess.run([sys.executable, "-W", "ignore", "-c",
                           "import json; from proofpile.samples.web.make_mathscore_real import generate; "
                           "print(json.dumps(generate()))"], capture_output=True, text=True, check=True)
    assert orjson.loads(made.stdout) == rows


@pytest.mark.parametrize("name", ["math-markers.txt", "latex-commands.txt", "url-blocklist.txt"])
def test_lists_have_no_trailing_whitespace_entries(name):
    for line in (FILTERS / name).read_text().splitlines():
        assert line == line.rstrip(), f"{name}: {line!r}"
