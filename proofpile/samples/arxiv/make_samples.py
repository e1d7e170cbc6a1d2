"""Writes the arxiv stage's demo inputs, deterministically (fixed mtimes, owners and order), next to this script:

- ``arXiv_src_2301_001.tar``: an arXiv-style bulk tar with
  - ``2301/2301.00001.gz``: a gzipped tar of a multi-file paper (main file with ``\\input``/``\\include``, a macro
    file, section files, a figure, a ``.bbl``), with comments, an appendix and a bibliography;
  - ``2301/2301.00002.gz``: a single gzipped ``.tex`` with ``\\def`` and ``\\DeclareMathOperator`` macros;
  - ``2301/2301.00003.pdf``: a paper submitted as PDF only (a counted drop);
- ``redpajama-arxiv.jsonl``: one paper in RedPajama's arXiv jsonl shape.

All text here is written for this project (Apache-2.0). Run: ``python proofpile/samples/arxiv/make_samples.py``.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MTIME = 1672531200  # 2023-01-01, fixed so the archives are byte-identical on every run

MAIN_TEX = r"""\documentclass[11pt]{amsart}
\usepackage{amsmath,amssymb,amsthm}
\input{macros}
% \input{old-macros}   <- commented out: must not be inlined
\newtheorem{theorem}{Theorem}[section]
\newtheorem{lemma}[theorem]{Lemma}
\title{Sums of Squares Modulo Primes}
\author{A. Sample}
\begin{document}
\begin{abstract}
We count the representations of a residue $a \in \FF_p$ as a sum of two squares
and show that every residue is such a sum.
\end{abstract}
\maketitle
\include{sections/intro}
\input{sections/results.tex}
\appendix
\section{Tables}
Small cases were checked by computer: for $p \le 97$ the counts agree with \eqref{eq:count}.
\bibliographystyle{plain}
\bibliography{refs}
\end{document}
"""

MACROS_TEX = r"""% macros shared by the sections
\newcommand{\FF}{\mathbb{F}}
\newcommand{\ZZ}{\mathbb{Z}}
\newcommand*{\legendre}[2]{\left(\frac{#1}{#2}\right)}
\newcommand{\norm}[2][2]{\lVert #2 \rVert_{#1}}
\DeclareMathOperator{\card}{card}
"""

INTRO_TEX = r"""\section{Introduction}\label{sec:intro}
Let $p$ be an odd prime. % TODO: cite Gauss
Fermat's question asks which integers are sums of two squares in $\ZZ$; over the field $\FF_p$ the answer is
simpler. We write $\legendre{a}{p}$ for the Legendre symbol and note that 50\% of the nonzero residues are squares.
"""

RESULTS_TEX = r"""\section{Counting representations}
\begin{lemma}\label{lem:squares}
For every $a \in \FF_p^\times$, $\card\{x \in \FF_p : x^2 = a\} = 1 + \legendre{a}{p}$.
\end{lemma}
\begin{proof}
The polynomial $x^2 - a$ has at most two roots, and it has one exactly when $a$ is a square.
\end{proof}
\begin{theorem}\label{thm:main}
For $a \in \FF_p^\times$ the number $N(a)$ of pairs $(x, y) \in \FF_p^2$ with $x^2 + y^2 = a$ is
\begin{equation}\label{eq:count}
N(a) = p - \legendre{-1}{p}.
\end{equation}
In particular $N(a) > 0$, and $\norm{v} = \norm[\infty]{v}$ only for $v = 0$ in the obvious embedding.
\end{theorem}
\begin{proof}
By Lemma~\ref{lem:squares}, $N(a) = \sum_{x} \bigl(1 + \legendre{a - x^2}{p}\bigr)$, and a Jacobi sum
evaluates the remaining character sum to $-\legendre{-1}{p}$.
\end{proof}
"""

BBL = r"""\begin{thebibliography}{1}
\bibitem{ireland} K. Ireland and M. Rosen, A Classical Introduction to Modern Number Theory.
\end{thebibliography}
"""

SINGLE_TEX = r"""\documentclass{article}
\usepackage{amsmath}
\def\eps{\varepsilon}
\def\abs#1{\left|#1\right|}
\DeclareMathOperator*{\argmax}{arg\,max}
\begin{document}
\title{A Note on Uniform Continuity}
\maketitle
\section{The statement}
A function $f \colon [0,1] \to \mathbb{R}$ is uniformly continuous if for every $\eps > 0$ there is $\delta > 0$
with $\abs{f(x) - f(y)} < \eps$ whenever $\abs{x - y} < \delta$.
\begin{theorem}
Every continuous $f$ on $[0,1]$ is uniformly continuous, and $\argmax_{x \in [0,1]} f(x)$ is non-empty.
\end{theorem}
\begin{proof}
Suppose not: pick $\eps > 0$ and points $x_n, y_n$ with $\abs{x_n - y_n} < 1/n$ but $\abs{f(x_n) - f(y_n)} \ge \eps$.
By Bolzano--Weierstrass a subsequence $x_{n_k} \to x$, hence $y_{n_k} \to x$, and continuity at $x$ gives a
contradiction. % the second claim is the extreme value theorem
\end{proof}
\begin{thebibliography}{9}
\bibitem{rudin} W. Rudin, Principles of Mathematical Analysis.
\end{thebibliography}
\end{document}
"""

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

REDPAJAMA = {
    "text": "\\section{Introduction}\nA group $G$ is \\emph{abelian} if $gh = hg$ for all $g, h \\in G$.\n\n"
            "\\begin{theorem}\nEvery group of order $p^2$, $p$ prime, is abelian.\n\\end{theorem}\n"
            "\\begin{proof}\nThe centre $Z(G)$ is non-trivial, so $G/Z(G)$ is cyclic or trivial, "
            "hence $G$ is abelian.\n\\end{proof}\n",
    "meta": {"timestamp": "2023-01-05T00:00:00", "yymm": "2301", "arxiv_id": "2301.00004", "language": "en",
             "url": "https://arxiv.org/abs/2301.00004"},
}


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, MTIME, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def tar_bytes(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files:
            tar.addfile(_info(name, len(data)), io.BytesIO(data))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    # mtime=0 and no file name: gzip headers would otherwise make every run differ
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f:
        f.write(data)
    return buf.getvalue()


def multi_file_paper() -> bytes:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))  # a figure: streamed past, never kept
    return tar_bytes([
        ("main.tex", MAIN_TEX.encode()),
        ("macros.tex", MACROS_TEX.encode()),
        ("sections/intro.tex", INTRO_TEX.encode()),
        ("sections/results.tex", RESULTS_TEX.encode()),
        ("figures/squares.png", png),
        ("main.bbl", BBL.encode()),
    ])


def main() -> None:
    bulk = tar_bytes([
        ("2301/2301.00001.gz", gzip_bytes(multi_file_paper())),
        ("2301/2301.00002.gz", gzip_bytes(SINGLE_TEX.encode())),
        ("2301/2301.00003.pdf", PDF),
    ])
    (HERE / "arXiv_src_2301_001.tar").write_bytes(bulk)
    (HERE / "redpajama-arxiv.jsonl").write_text(json.dumps(REDPAJAMA, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
