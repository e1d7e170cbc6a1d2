"""arXiv benchmarks: what hostile-input safety and macro arguments cost.

- ``arxiv_safe_read_vs_extractall``: reading a paper's text files in memory with all the checks and caps
  (``open_paper``) against the plain way, ``tarfile.extractall`` into a scratch directory then reading the ``.tex``
  files back (what extraction-based pipelines do). Value: baseline seconds / our seconds (>1: we are faster).
- ``arxiv_macro_expansion_vs_redpajama``: our one-pass expander (macros with arguments, nesting, bounds) against
  RedPajama's approach (one ``re.sub`` over the paper per argument-free macro) on the same paper. Value: baseline
  seconds / our seconds.
"""

from __future__ import annotations

import gzip
import io
import random
import re
import tarfile
from pathlib import Path

from proofpile.arxiv.archive import Limits, open_paper
from proofpile.arxiv.latex import collect_macros, expand_macros
from proofpile.bench import best_of, figure


def _paper_tar(rng: random.Random) -> bytes:
    buf = io.BytesIO()
    words = ["ring", "ideal", "module", "prime", "field", "$x^2$", "\\alpha", "integral", "closure", "local"]
    with tarfile.open(fileobj=buf, mode="w") as tar:
        files = [("main.tex", "\\documentclass{article}\\begin{document}\n" +
                  "".join(f"\\input{{sec{i}}}\n" for i in range(30)) + "\\end{document}\n")]
        files += [(f"sec{i}.tex", " ".join(rng.choice(words) for _ in range(8000))) for i in range(30)]
        files += [(f"fig{i}.png", rng.randbytes(200_000)) for i in range(10)]
        for name, data in files:
            raw = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return gzip.compress(buf.getvalue(), compresslevel=6, mtime=0)


def _extractall_read(gz: bytes, scratch: Path) -> dict[str, bytes]:
    scratch.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(gz), mode="r:gz") as tar:
        tar.extractall(scratch, filter="data")
    return {p.name: p.read_bytes() for p in scratch.glob("*.tex")}


def _paper_with_macros(rng: random.Random) -> str:
    names = [f"m{a}{b}" for a in "abcdefghij" for b in "abcdefghijklmnopqrst"]  # 200 macros
    defs = "".join(f"\\newcommand{{\\{n}}}{{\\mathbb{{{n[1:].upper()}}}}}\n" for n in names)
    body = []
    for _ in range(60_000):
        r = rng.random()
        body.append(f"$\\{rng.choice(names)}$" if r < 0.15 else rng.choice(["the", "ring", "is", "local", "\\alpha"]))
    return defs + "\\begin{document}\n" + " ".join(body) + "\n\\end{document}\n"


def _redpajama_expand(text: str) -> str:
    # RedPajama's arXiv cleaner: collect argument-free \newcommand{\name}{body}, then one substitution per macro
    macros = dict(re.findall(r"\\newcommand\{\\([a-zA-Z]+)\}\{(.*?)\}\n", text))
    text = re.sub(r"\\newcommand\{\\[a-zA-Z]+\}\{.*?\}\n", "", text)
    for name, body in macros.items():
        text = re.sub(r"\\" + name + r"(?![a-zA-Z])", lambda _: body, text)
    return text


def run(workdir: Path) -> list:
    rng = random.Random(7)
    gz = _paper_tar(rng)
    ours = open_paper(gz, Limits())
    base = _extractall_read(gz, workdir / "check")
    assert set(ours.files) == set(base), "both readers must see the same files"
    t_ours = best_of(lambda: open_paper(gz, Limits()), 5)
    counter = iter(range(1000))
    t_base = best_of(lambda: _extractall_read(gz, workdir / f"x{next(counter)}"), 5)
    figures = [figure("arxiv_safe_read_vs_extractall", t_base / t_ours, "x speed", "tarfile.extractall + read .tex",
                      ours_s=round(t_ours, 4), baseline_s=round(t_base, 4), compressed_bytes=len(gz),
                      tex_files=len(ours.files))]

    paper = _paper_with_macros(rng)

    def ours_expand():
        macros, rest = collect_macros(paper)
        return expand_macros(rest, macros)

    assert "".join(ours_expand().split()) == "".join(_redpajama_expand(paper).split()), "same output expected"
    t_ours = best_of(ours_expand, 3)
    t_base = best_of(lambda: _redpajama_expand(paper), 3)
    figures.append(figure("arxiv_macro_expansion_vs_redpajama", t_base / t_ours, "x speed",
                          "RedPajama: one re.sub per argument-free macro", ours_s=round(t_ours, 4),
                          baseline_s=round(t_base, 4), chars=len(paper), macros=200))
    return figures
