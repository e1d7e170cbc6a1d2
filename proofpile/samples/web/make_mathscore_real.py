"""Write filters/web/mathscore-real.jsonl: real text for the default MathScore model, beside the generated set.

Prose written by people, from the docstrings of packages whose licenses allow redistribution (filters/web/README.md
lists them; their license texts are written beside the data, to mathscore-real-LICENSES.txt):

- "math": docstrings of SciPy, NumPy and NetworkX (BSD-3-Clause) that carry formulas, their reST math turned into
  the delimiters of extracted web text: ``:math:`x``` -> ``$x$``, each equation of a ``.. math::`` block ->
  ``$$..$$``;
- "other": docstrings of the same packages without any formula, and of Python's standard library (PSF License
  v2): the same vocabulary and layout of technical documentation, so what tells the labels apart is the math
  (software prose as the only "other" taught MathScore that pages about MathJax are not math).

Both sides get the same cleaning (reST roles to their text; numpydoc Examples, Methods and See Also sections and
doctest lines dropped; at most ``MAX_CHARS``, cut at a paragraph), so markup carries no label. Each docstring is
used once, in a fixed order (module, then name); a "math" one needs ``MIN_FORMULAS`` formulas by
:mod:`proofpile.mathspans`, an "other" one none. The text depends on the packages' versions, which each row's
``source`` records; with those versions installed this rewrites both files byte for byte:

    python -m proofpile.samples.web.make_mathscore_real   # needs scipy and networkx (installed with the dev extra)
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
import sys
from importlib.metadata import distribution, version
from pathlib import Path

from proofpile import mathspans

OUT = Path(__file__).resolve().parents[3] / "filters" / "web" / "mathscore-real.jsonl"
LICENSES = OUT.with_name("mathscore-real-LICENSES.txt")
# (distribution, modules whose public objects' docstrings are read), per label, in the order they are read
SOURCES = {
    "math": [
        ("scipy", ["scipy.special", "scipy.stats", "scipy.signal", "scipy.linalg", "scipy.integrate",
                   "scipy.optimize", "scipy.interpolate", "scipy.spatial.distance", "scipy.fft"]),
        ("numpy", ["numpy", "numpy.linalg", "numpy.random"]),
        ("networkx", ["networkx"]),
    ],
    "other": [
        ("scipy", ["scipy.io", "scipy.ndimage", "scipy.signal", "scipy.sparse", "scipy.spatial", "scipy.linalg",
                   "scipy.optimize", "scipy.interpolate", "scipy.stats"]),
        ("numpy", ["numpy", "numpy.ma", "numpy.char", "numpy.lib", "numpy.random"]),
        ("networkx", ["networkx"]),
        ("python", ["http.client", "email.message", "logging", "argparse", "asyncio", "csv", "zipfile", "tarfile",
                    "shutil", "pathlib", "subprocess", "smtplib", "sqlite3", "urllib.request", "configparser",
                    "textwrap", "difflib", "calendar", "unittest", "json", "tkinter", "imaplib", "ftplib",
                    "mailbox", "gettext", "locale", "socketserver", "http.server", "http.cookiejar", "venv",
                    "zipapp", "webbrowser", "sched", "queue", "threading", "multiprocessing", "codecs"]),
    ],
}
PER_LABEL = {"math": 300, "other": 150}  # documents per label, taken evenly from the sources' candidates
MAX_CHARS = 2000
MIN_CHARS = 300
MIN_FORMULAS = 2

_MATH_ROLE = re.compile(r":math:`([^`]+)`")
_ROLE = re.compile(r":[\w:.+-]+:`~?([^`<]*?)(?:\s*<[^`>]*>)?`")  # :func:`name`, :ref:`title <target>`
_LITERAL = re.compile(r"``([^`]+)``")
_DIRECTIVE = re.compile(r"^(\s*)\.\. ?([\w-]+) ?::(.*)$")
_OPTION = re.compile(r"^\s+:[\w-]+:.*$")
# numpydoc sections that are lists or code, not prose: each runs to the next section heading
_DROPPED_SECTION = re.compile(r"^(?:Examples?|Methods|See Also)\n-{3,}\n.*?(?=^\w[\w ]*\n-{3,}$|\Z)", re.M | re.S)
_DOCTEST = re.compile(r"^\s*(>>>|\.\.\.)( |$)")


def _math_block(lines: list[str], start: int, first: str) -> tuple[list[str], int]:
    """The equations of a ``.. math::`` block starting at ``lines[start]`` (``first``: TeX on the directive line),
    each as ``$$..$$``, and the index of the first line after the block."""
    indent = len(lines[start]) - len(lines[start].lstrip())
    body, i = [first.strip()] if first.strip() else [], start + 1
    while i < len(lines) and (not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent):
        if not _OPTION.match(lines[i]) or body:
            body.append(lines[i].strip())
        i += 1
    equations = [" ".join(part.split()) for part in "\n".join(body).split("\n\n")]
    return [f"$${eq}$$" for eq in equations if eq], i


def to_text(doc: str) -> str:
    """A docstring as extracted web text: math delimited, roles as their text, examples and directives gone."""
    lines = _DROPPED_SECTION.sub("", doc).replace("\t", "    ").split("\n")
    out, i = [], 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if m and m.group(2) == "math":
            equations, i = _math_block(lines, i, m.group(3))
            out += equations
            continue
        if m:  # other directives (versionadded, note, plot...): the directive line goes, its text stays
            rest = m.group(3).strip()
            if rest:
                out.append(rest)
            i += 1
            continue
        if not _DOCTEST.match(lines[i]):
            out.append(lines[i])
        i += 1
    text = "\n".join(out)
    text = _MATH_ROLE.sub(lambda m: f"${m.group(1).strip()}$", text)
    text = _LITERAL.sub(r"\1", _ROLE.sub(r"\1", text))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if len(text) > MAX_CHARS:
        end = text.rfind("\n\n", 0, MAX_CHARS)
        text = text[:end if end > MIN_CHARS else MAX_CHARS].rstrip()
    return text


def _docstrings(module_name: str):
    """(qualified name, docstring) of a module's public functions and classes and their public methods, by name."""
    module = importlib.import_module(module_name)
    for name in sorted(dir(module)):
        obj = getattr(module, name, None)
        if name.startswith("_") or obj is None or inspect.ismodule(obj):
            continue
        if inspect.getdoc(obj):
            yield f"{module_name}.{name}", inspect.getdoc(obj)
        if inspect.isclass(obj):
            for attr in sorted(vars(obj)):
                member = getattr(obj, attr, None)
                if not attr.startswith("_") and callable(member) and inspect.getdoc(member):
                    yield f"{module_name}.{name}.{attr}", inspect.getdoc(member)


def candidates(label: str) -> dict[str, list[dict]]:
    """Per distribution, its usable docstrings as rows, in reading order."""
    found, seen = {}, set()
    for dist, modules in SOURCES[label]:
        rows = found.setdefault(dist, [])
        release = f"python {sys.version_info[0]}.{sys.version_info[1]}" if dist == "python" else f"{dist} {version(dist)}"
        for module_name in modules:
            for qualname, doc in _docstrings(module_name):
                if doc in seen:
                    continue
                seen.add(doc)
                formulas = ":math:" in doc or ".. math::" in doc
                text = to_text(doc)
                if len(text) < MIN_CHARS:
                    continue
                spans = sum(1 for _ in mathspans.find(text))
                if (label == "math" and formulas and spans >= MIN_FORMULAS) or \
                        (label == "other" and not formulas and spans == 0):
                    rows.append({"label": label, "source": f"{release}: {qualname}", "text": text})
    return found


def _evenly(rows: list[dict], n: int) -> list[dict]:
    step = len(rows) / n if n else 1
    return [rows[int(k * step)] for k in range(min(n, len(rows)))]


def generate() -> list[dict]:
    """``PER_LABEL`` rows per label, shared as evenly as they go among its distributions (one with fewer usable
    docstrings than its share gives them all, the rest is shared among the others), each share evenly spaced."""
    out = []
    for label in SOURCES:
        found = candidates(label)
        quota, left = {}, PER_LABEL[label]
        for i, dist in enumerate(sorted(found, key=lambda d: len(found[d]))):
            quota[dist] = min(len(found[dist]), left // (len(found) - i))
            left -= quota[dist]
        for dist in found:  # in SOURCES order
            out += _evenly(found[dist], quota[dist])
    return out


def _license(dist: str) -> str:
    """The license text of a distribution (its own, without the notices of libraries bundled in its wheels)."""
    if dist == "python":
        text = (Path(os.__file__).parent / "LICENSE.txt").read_text()
        start = text.index("PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2")
        return text[start:text.index("BEOPEN.COM LICENSE AGREEMENT", start)].strip()
    files = [f for f in distribution(dist).files if re.search(r"LICEN[CS]E(\.txt)?$", f.name)]
    return files[0].read_text().split("\n----\n")[0].strip()


def main() -> None:
    rows = generate()
    OUT.write_text("".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows))
    dists = list(dict.fromkeys(dist for label in SOURCES for dist, _ in SOURCES[label]))
    LICENSES.write_text("".join(f"== {dist}\n\n{_license(dist)}\n\n" for dist in dists))
    counts = {label: sum(r["label"] == label for r in rows) for label in SOURCES}
    print(f"{counts} examples, {OUT.stat().st_size} bytes -> {OUT}")


if __name__ == "__main__":
    main()
