"""arXiv benchmarks: what hostile-input safety and macro arguments cost.

- ``arxiv_safe_read_vs_extractall``: reading a paper's text files in memory with all the checks and caps
  (``open_paper``) against the plain way, ``tarfile.extractall`` into a scratch directory then reading the ``.tex``
  files back (what extraction-based pipelines do). Value: baseline seconds / our seconds (>1: we are faster).
- ``arxiv_macro_expansion_vs_redpajama``: our one-pass expander (macros with arguments, nesting, bounds) against
  RedPajama's approach (one ``re.sub`` over the paper per argument-free macro) on the same paper. Value: baseline
  seconds / our seconds.
- ``arxiv_vs_tar_read``: the arxiv stage's steps as the stage builds them from ``pipelines/arxiv.yaml`` (reader,
  macro expander, body filter, contract writer, each paper under the configured time and memory budget), in
  process on one rank, on a bulk tar of generated papers (LaTeX split over ``\\input`` files, a preamble of macros,
  figures), against the floor: reading every member of the same bulk tar in memory, decompressing each paper and
  reading every member of it. The steps are built once and warmed up by a first run (their start-up, the cleaning
  rules read, is not timed: the floor has none); the two are timed alternately, best of 7 each, so a busy machine
  slows both alike.
  Value: floor seconds / stage seconds (1 would be reading speed).
- ``arxiv_pathological_worst``: the hostile inputs of issue 14 (unclosed ``\\iffalse``, a run of 300k spaces, 8k
  unclosed ``\\newcommand{``, 20k unclosed ``\\f{``, a macro repeating its argument a million times, a backslash
  at the end of a line, 8k unclosed ``\\section[``), each through the whole per-paper path (reader, expander, body
  filter), against a normal paper of the same size (the two timed alternately, best of 3 each). Value: the slowest
  ratio (lower is better; <= 5 wanted).
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
from proofpile.bench import PROJECT, best_of, best_of_alternating, figure

WORDS = ("ring ideal module prime field integral closure local the of is and a we let be an that for every which "
         "finite group order element subgroup normal proof lemma").split()
MACROS = {"ZZ": "\\mathbb{Z}", "QQ": "\\mathbb{Q}", "RR": "\\mathbb{R}", "fp": "\\mathfrak{p}",
          "Spec": "\\operatorname{Spec}"}


def _prose(rng: random.Random, chars: int) -> str:
    """LaTeX prose of about ``chars`` characters: sentences, inline math with the paper's macros, a comment line now
    and then, a displayed equation per paragraph."""
    out, size = [], 0
    names = list(MACROS)
    while size < chars:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20)))
        math = f"$\\{rng.choice(names)} \\subset \\norm{{x_{rng.randint(1, 9)}}}^{{2}}$"
        piece = f"{sentence.capitalize()} {math}, {sentence[:30]}.\n"
        if rng.random() < 0.1:
            piece += "% TODO: check this step\n"
        if rng.random() < 0.05:
            piece += "\\begin{equation}\n\\sum_{i=1}^{n} a_i = \\frac{n(n+1)}{2}\n\\end{equation}\n\n"
        out.append(piece)
        size += len(piece)
    return "".join(out)


def _preamble() -> str:
    return ("\\documentclass{amsart}\n\\usepackage{amsmath}\n" +
            "".join(f"\\newcommand{{\\{k}}}{{{v}}}\n" for k, v in MACROS.items()) +
            "\\newcommand{\\norm}[1]{\\lVert #1 \\rVert}\n")


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, raw in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return buf.getvalue()


def _bulk_paper(rng: random.Random, i: int) -> bytes:
    """One paper as arXiv ships it: a gzipped tar of a main file, five sections (about 80 KB of LaTeX) and three
    figures (about 1 MB of already-compressed image data). The proportions are arXiv's: its source archive holds
    about 1 MB per paper, mostly figures, and RedPajama's cleaned arXiv text is about 65 KB per paper."""
    sections = {f"sections/s{k}.tex": (f"\\section{{Part {k}}}\n" + _prose(rng, 16_000)).encode() for k in range(5)}
    main = (_preamble() + "\\begin{document}\n\\begin{abstract}\n" + _prose(rng, 600) + "\\end{abstract}\n" +
            "".join(f"\\input{{sections/s{k}}}\n" for k in range(5)) + "\\end{document}\n")
    figures = {f"fig{k}.png": rng.randbytes(350_000) for k in range(3)}  # compressed image data
    return gzip.compress(_tar({"main.tex": main.encode(), **sections, **figures}), compresslevel=6, mtime=0)


def _bulk_tar(n: int) -> bytes:
    rng = random.Random(11)
    return _tar({f"2301/2301.{i:05d}.gz": _bulk_paper(rng, i) for i in range(n)})


def _read_every_member(path: Path) -> int:
    """The floor: every member of a bulk tar read in memory, each paper decompressed and every member of it read."""
    total = 0
    with tarfile.open(fileobj=io.BytesIO(path.read_bytes()), mode="r|") as bulk:
        for member in bulk:
            gz = bulk.extractfile(member).read()
            with tarfile.open(fileobj=io.BytesIO(gzip.decompress(gz)), mode="r|") as paper:
                for inner in paper:
                    total += len(paper.extractfile(inner).read())
    return total


def _stage_config(folder: Path, root: Path):
    from proofpile.config import StageConfig

    project = PROJECT
    return StageConfig.load("arxiv", project / "pipelines" / "arxiv.yaml", data_root=root,
                            overrides={"arxiv": {"sources": [str(folder)], "redpajama": []}})


def _stage_steps(steps: list) -> int:
    """One run of the stage's steps (``proofpile.stages.arxiv.steps``) in process on one rank: the papers kept."""
    from collections import deque

    from proofpile.arxiv.clean import ArxivBodyFilter

    forwarded = next(s for s in steps if isinstance(s, ArxivBodyFilter)).stats.stats["forwarded"]
    before = forwarded.total
    data = None
    for step in steps:
        data = step(data, rank=0, world_size=1)
    deque(data, maxlen=0)
    return int(forwarded.total - before)


def _pathological(size: int) -> dict[str, str]:
    """The hostile inputs of issue 14, each about ``size`` characters."""
    head = _preamble() + "\\begin{document}\n\\section{Intro}\nSome text.\n"
    return {
        "unclosed_iffalse": head + "\\iffalse x\n" * (size // 11),
        "space_run": head + "word" + " " * size + "end\n",
        "unclosed_newcommand": head + "\\newcommand{" * (size // 12),
        "unclosed_argument": "\\newcommand{\\f}[1]{F(#1)}\n" + head + "\\f{" * (size // 3),
        "unclosed_section_title": head + "\\section[" * (size // 9),
        "backslash_newline": head + "$\\ZZ$, e.g.\\\n" * (size // 12),
        "argument_repeated_1e6": ("\\newcommand{\\x}[1]{" + "#1" * (size // 4) + "}\n" + head +
                                  "$\\x{" + "y" * 2048 + "}$\n"),
    }


def _paper_path():
    """The per-paper path of the stage: reader (decompress, decode, main file, inline), expander, body filter."""
    from proofpile.arxiv.clean import ArxivBodyFilter, LatexMacroExpander, load_cleaning
    from proofpile.arxiv.readers import ArxivSourceReader

    rules, protected = load_cleaning(str(PROJECT / "filters/arxiv/cleaning.yaml"))
    reader, expander, body = ArxivSourceReader("."), LatexMacroExpander(protected_commands=protected), \
        ArxivBodyFilter(rules)

    def process(gz: bytes):
        doc = reader._paper("2301.00001.gz", gz, "bench")
        if doc is not None:
            doc.text = expander.expand(doc.text)
            body.filter(doc)

    return process


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
    n_papers = 40
    bulk_dir = workdir / "bulk"
    bulk_dir.mkdir()
    bulk = bulk_dir / "arXiv_src_2301_001.tar"
    bulk.write_bytes(_bulk_tar(n_papers))
    member_bytes = _read_every_member(bulk)  # also warms the page cache for both
    from proofpile.stages.arxiv import steps as stage_steps

    steps = stage_steps(_stage_config(bulk_dir, workdir / "root"))
    kept = _stage_steps(steps)  # the warm-up run
    assert kept == n_papers, f"every generated paper must come out, got {kept}"
    t_floor, t_stage = best_of_alternating([lambda: _read_every_member(bulk), lambda: _stage_steps(steps)], 7)
    figures.append(figure("arxiv_vs_tar_read", t_floor / t_stage, "x (floor s / stage s)",
                          "in-memory read of every member of the bulk tar and of every paper in it",
                          stage_s=round(t_stage, 3), floor_s=round(t_floor, 3), papers=n_papers,
                          bulk_tar_bytes=bulk.stat().st_size, member_bytes=member_bytes,
                          papers_per_s=round(n_papers / t_stage, 1)))

    process = _paper_path()
    ratios, detail = {}, {}
    for name, text in _pathological(330_000).items():
        normal = _preamble() + "\\begin{document}\n" + _prose(random.Random(5), len(text)) + "\\end{document}\n"
        gz_bad = gzip.compress(text.encode(), mtime=0)
        gz_normal = gzip.compress(normal.encode(), mtime=0)
        t_bad, t_normal = best_of_alternating([lambda: process(gz_bad), lambda: process(gz_normal)], 3)
        ratios[name] = t_bad / t_normal
        detail[name] = {"chars": len(text), "seconds": round(t_bad, 4), "normal_seconds": round(t_normal, 4),
                        "ratio": round(t_bad / t_normal, 3)}
    worst = max(ratios, key=ratios.get)
    figures.append(figure("arxiv_pathological_worst", ratios[worst], "x (hostile s / normal s, slowest input)",
                          "a normal paper of the same size through the same path", worst=worst, inputs=detail))
    return figures
