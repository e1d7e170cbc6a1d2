"""LaTeX cleaning: main file, \\input inlining, comments, macros, trimming -- on a real arXiv paper and on cases."""

import gzip
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from datatrove.data import Document

from proofpile.arxiv.clean import ArxivBodyFilter, LatexMacroExpander, load_cleaning
from proofpile.arxiv.latex import (
    ExpandLimits,
    InlineLimits,
    TrimRules,
    collect_macros,
    decode_source,
    expand_macros,
    find_main_file,
    inline_inputs,
    strip_comments,
    trim_paper,
)
from proofpile.arxiv.readers import ArxivSourceReader

PROJECT = Path(__file__).resolve().parents[1]
CLEANING = PROJECT / "filters" / "arxiv" / "cleaning.yaml"
# a paragraph using macros the real paper defines in its preamble (its body happens to use none of them)
MACRO_USES = (r"Injected: $\ZZ \subset \QQ$, $\myplus{i} M_i$, $\ker f \le \ker g \leq h$, $\shHom(\shF, \shG)$, "
              r"$\mathdisp{a}{b}$, \betonung{stress}, $\Spec A$, $\foa \in \spec R$, $\Sheaf$.")


def clean(text: str) -> str | None:
    rules, protected = load_cleaning(str(CLEANING))
    expander, body = LatexMacroExpander(protected_commands=protected), ArxivBodyFilter(rules, min_chars=1)
    doc = Document(text=text, id="x")
    doc.text = expander.expand(doc.text)
    result = body.filter(doc)
    return doc.text if result is True else None


def fixture_text(shared_fixture) -> str:
    return decode_source(shared_fixture("arxiv/1707.08043/main.tex").read_bytes())


def test_real_paper_through_the_reader(shared_fixture, tmp_path):
    raw = fixture_text(shared_fixture)
    injected = raw.replace(r"\section{Preliminary facts}", r"\section{Preliminary facts}" + "\n" + MACRO_USES + "\n")
    assert injected != raw
    (tmp_path / "1707.08043v1.gz").write_bytes(gzip.compress(injected.encode("latin-1"), mtime=0))
    reader = ArxivSourceReader(str(tmp_path))
    [doc] = list(reader.run(rank=0, world_size=1))
    assert doc.id == "1707.08043v1"
    assert doc.metadata["arxiv_id"] == "1707.08043" and doc.metadata["yymm"] == "1707"
    assert doc.metadata["source_kind"] == "tex"
    rules, protected = load_cleaning(str(CLEANING))
    expander = LatexMacroExpander(protected_commands=protected)
    docs = list(ArxivBodyFilter(rules, min_chars=200).run(expander.run([doc])))
    assert len(docs) == 1
    text = docs[0].text

    # macros from the paper's own preamble are expanded, with arguments, and the definitions are gone
    assert r"$\mathbb{Z} \subset \mathbb{Q}$" in text
    assert r"$\underset{i}{\oplus} M_i$" in text
    assert r"$\operatorname{ker} f \leqslant \operatorname{ker} g \leq h$" in text  # \le renewed; \leq untouched
    assert r"$\mathcal{H}\!\text{\textit{om}}(\mathcal{F}, \mathcal{G})$" in text
    assert r"$\[ a \, b \]$" in text
    assert r"\emph{stress}" in text
    assert r"$\mathfrak{a} \in \text{Spec} R$" in text
    assert r"$\operatorname{Spec} A$" in text
    assert r"$\Sheaf$" in text  # not defined by the paper: left alone
    assert "\r" not in text
    for definition in (r"\newcommand", r"\renewcommand", r"\newtheorem", r"\documentclass", r"\usepackage"):
        assert definition not in text

    # comments are gone, with TeX's meaning of a line-end %: the next line continues this one
    assert re.search(r"(?<!\\)%", text) is None
    assert "bounded in terms of $d$. In fact" in text
    assert "Edisson Gallego" not in text  # a commented-out \author line

    # the bibliography is gone; the front matter before the first section too, except the abstract
    assert r"\bibitem" not in text and "thebibliography" not in text
    assert r"\maketitle" not in text and r"\title" not in text
    assert text.startswith(r"\begin{abstract}")
    assert r"\section*{Introduction}" in text

    # theorem environments and math survive
    for env in ("theorem", "lemma", "definition", "remark", "proof", "equation*"):
        assert text.count(rf"\begin{{{env}}}") == text.count(rf"\end{{{env}}}") >= 1, env
    assert r"$k\left[ x_{1},\ldots ,x_{n}\right] $" in text
    assert r"\mathbb{F}_{p}^{alg}" in text
    assert "Lefschetz's Principle" in text
    assert text.count(r"\begin{theorem}") == raw.count(r"\begin{theorem}")


def test_real_paper_without_changes_keeps_every_theorem(shared_fixture):
    raw = fixture_text(shared_fixture)
    text = clean(strip_comments(raw))
    main_body = raw[raw.index(r"\section*{Introduction}"):raw.index(r"\begin{thebibliography}")]
    for env in ("theorem", "lemma", "proposition", "corollary", "proof"):
        assert text.count(rf"\begin{{{env}}}") == main_body.count(rf"\begin{{{env}}}")
    assert "Hochster" in text and r"\leqslant" not in text  # nothing uses \le, so nothing turned into \leqslant


def test_comments():
    src = "a 50\\% b % gone\nnext\n% whole line\n\n\\foo%\nbar\nx\\\\% c\ny\n\\begin{comment}\nhidden\n\\end{comment}\n"
    out = strip_comments(src)
    assert out.startswith("a 50\\% b next\n")  # escaped \% kept; the comment ate its newline
    assert "whole line" not in out and "gone" not in out and "hidden" not in out
    assert "\\foo bar" in out  # a control word does not glue onto the continued line
    assert "x\\\\y" in out  # \\ is a line break, so the % after it starts a comment
    assert "\n\n" in out  # the paragraph break survives


def test_macros_with_and_without_arguments():
    src = r"""\newcommand{\R}{\mathbb{R}}
\newcommand*\norm[1]{\lVert #1 \rVert}
\newcommand{\ip}[2]{\langle #1, #2 \rangle}
\newcommand{\sub}[2][n]{x_{#1}^{#2}}
\renewcommand{\vec}[1]{\vec{\mathbf{#1}}}
\def\eps{\varepsilon}
\def\pair#1#2{(#1, #2)}
\DeclareMathOperator{\rank}{rank}
\DeclareMathOperator*{\esssup}{ess\,sup}
\providecommand{\R}{WRONG}
\newcommand{\twoR}{\R^2}
Body: $\R \norm{x} \ip{a}{\norm b} \sub{2} \sub[k]{3} \vec{v} \eps \pair a{bc} \rank A \esssup f \twoR \Rational$
"""
    macros, rest = collect_macros(src)
    assert set(macros) == {"R", "norm", "ip", "sub", "vec", "eps", "pair", "rank", "esssup", "twoR"}
    assert rest.strip().startswith("Body:")
    stats = Counter()
    out = expand_macros(rest, macros, stats=stats)
    assert out.strip() == (r"Body: $\mathbb{R} \lVert x \rVert \langle a, \lVert b \rVert \rangle x_{n}^{2} "
                           r"x_{k}^{3} \vec{\mathbf{v}} \varepsilon (a, bc) \operatorname{rank} A "
                           r"\operatorname*{ess\,sup} f \mathbb{R}^2 \Rational$")


def test_self_reference_terminates_and_growth_is_bounded():
    macros, rest = collect_macros(r"\def\a{\a\a}\def\b{\c\c}\def\c{\b\b} $\a \b$")
    # a macro is not re-expanded inside its own expansion
    assert expand_macros(rest, macros).strip() == r"$\a\a \b\b\b\b$"
    # a chain that doubles at every level: 2^20 copies unless the growth cap stops it
    names = [f"m{chr(97 + i)}" for i in range(21)]
    defs = "".join(rf"\def\{a}{{\{b}\{b}}}" for a, b in zip(names, names[1:]))
    macros, rest = collect_macros(defs + rf"\def\{names[-1]}{{x}} $\{names[0]}$")
    stats = Counter()
    out = expand_macros(rest, macros, ExpandLimits(max_depth=32, max_growth=4.0), stats)
    assert out == rest and stats["macro_expansion_too_large"] == 1  # left unexpanded, and counted
    stats = Counter()
    out = expand_macros(rest, macros, ExpandLimits(max_depth=5, max_growth=4.0), stats)
    assert stats["macro_too_deep"] > 0 and len(out) < 1000


def test_main_file_and_inputs():
    sources = {
        "supplement.tex": "\\documentclass{article}\\begin{document}supp\\end{document}",
        "draft.tex": ("\\documentclass{article}\n\\input{defs}\n\\begin{document}\n\\input{sec/a}\n"
                      "\\include{sec/b.tex}\n\\input sec/c\n\\input{missing}\n% \\input{commented}\n\\end{document}"),
        "defs.tex": "\\newcommand{\\x}{X}",
        "sec/a.tex": "A \\input{sec/a}",  # a cycle
        "sec/b.tex": "B \\input{deep1}",
        "deep1.tex": "D1 \\input{deep2}",
        "deep2.tex": "D2",
        "sec/c.tex": "C",
        "commented.tex": "SHOULD NOT APPEAR",
    }
    # two root documents: the one reaching the most content wins (blank space is no content)
    sources["supplement.tex"] += " " * 10_000
    stats = Counter()
    assert find_main_file(sources, stats) == "draft.tex" and stats == Counter({"main_file/most_content": 1})
    sources["supplement.tex"] += "supplementary text " * 100
    assert find_main_file(sources) == "supplement.tex"
    # as much content: a conventional name (main.tex, ms.tex, paper.tex, article.tex) decides
    sources["supplement.tex"] = "\\documentclass{article}\\begin{document}S\\end{document}"
    sources["twin.tex"] = sources["supplement.tex"]
    stats = Counter()
    sources["draft.tex"] = "x"
    assert find_main_file(sources, stats) == "supplement.tex" and stats == Counter({"main_file/name": 1})
    sources["main.tex"] = sources.pop("twin.tex")
    stats = Counter()
    assert find_main_file(sources, stats) == "main.tex" and stats == Counter({"main_file/conventional_name": 1})
    sources["main.tex"] = ("\\documentclass{article}\n\\input{defs}\n\\begin{document}\n\\input{sec/a}\n"
                           "\\include{sec/b.tex}\n\\input sec/c\n\\input{missing}\n% \\input{commented}\n\\end{document}")
    del sources["draft.tex"]
    stats = Counter()
    out = inline_inputs(sources, "main.tex", InlineLimits(max_depth=3), stats)
    assert "\\newcommand{\\x}{X}" in out and "A" in out and "B" in out and "C" in out and "D1" in out
    assert "D2" not in out  # past max_depth
    assert "SHOULD NOT APPEAR" not in out
    assert stats == Counter(input_cycle=1, input_too_deep=1, input_missing=1)


def test_an_inputted_file_is_not_the_main_file():
    sources = {"main.tex": "\\documentclass{article}\\begin{document}\\input{old}\\end{document}",
               "old.tex": "\\documentclass{article}\\begin{document}" + "old " * 5000 + "\\end{document}"}
    assert find_main_file(sources) == "main.tex"


def test_a_paper_inputting_its_bbl_has_a_main_file():
    # `\input{main.bbl}` is how many arXiv papers carry their bibliography: a reached file that is not .tex
    sources = {"main.tex": "\\documentclass{article}\\begin{document}Body\\input{main.bbl}\\end{document}",
               "main.bbl": "\\begin{thebibliography}{9}\\bibitem{a} A.\\end{thebibliography}"}
    stats = Counter()
    assert find_main_file(sources, stats) == "main.tex" and stats == Counter({"main_file/only_root": 1})
    # and when two roots compete, the one whose reach (its .bbl included) holds more content wins
    sources["reply.tex"] = "\\documentclass{article}\\begin{document}" + "Thanks. " * 3 + "\\end{document}"
    stats = Counter()
    assert find_main_file(sources, stats) == "main.tex" and stats == Counter({"main_file/most_content": 1})
    sources["main.bbl"] = ""
    assert find_main_file(sources) == "reply.tex"


def test_trim_rules():
    src = (r"\documentclass{article}\begin{document}\title{T}\begin{abstract}Abs.\end{abstract}"
           "\n\\section[short]{Intro}\nBody.\n\\appendix\n\\section{Extra}\nApp.\n"
           "\\bibliographystyle{plain}\\bibliography{refs}\n\\end{document}\n")
    out = trim_paper(src, TrimRules())
    assert out.startswith(r"\begin{abstract}Abs.\end{abstract}") and "Body." in out and "App." not in out
    assert r"\title" not in out
    out = trim_paper(src, TrimRules(drop_appendix=False, keep_abstract=False))
    assert out.startswith(r"\section[short]{Intro}") and "App." in out and "bibliography" not in out
    no_sections = r"\documentclass{article}\begin{document}Just a note.\end{document}"
    assert trim_paper(no_sections, TrimRules()) == "Just a note."
    assert trim_paper(no_sections, TrimRules(require_section=True)) is None
    assert trim_paper(r"\begin{document} \end{document}", TrimRules()) is None


def test_cleaning_yaml_is_valid_and_complete():
    data = yaml.safe_load(CLEANING.read_text())
    assert set(data) == {"section_commands", "appendix_markers", "bibliography_markers", "protected_commands"}
    for key, values in data.items():
        assert values and all(isinstance(v, str) and v.strip() == v and v for v in values), key
        assert len(values) == len(set(values)), key
        for v in values:
            re.compile(v)
    for key in ("section_commands", "protected_commands"):
        assert all(re.fullmatch(r"[A-Za-z]+", v) for v in data[key]), key
    assert {"section", "subsection", "chapter"} <= set(data["section_commands"])
    rules, protected = load_cleaning(str(CLEANING), drop_appendix=False)
    assert rules.section_commands == data["section_commands"] and rules.drop_appendix is False
    assert {"section", "begin", "end", "label", "cite"} <= set(protected)
    bib = "\\section{A}\ntext\n\\begin{thebibliography}{9}\\bibitem{x} X\\end{thebibliography}"
    assert "bibitem" not in trim_paper(bib, rules)
    with pytest.raises(ValueError):
        load_cleaning(str(CLEANING), drop_apendix=True)


def test_layout_redefinitions_are_not_expanded():
    src = r"""\documentclass{article}
\makeatletter
\renewcommand\section{\@startsection{section}{1}{\z@}{-3.5ex}{2.3ex}{\normalfont\bfseries}}
\def\th@plain{\itshape}
\makeatother
\renewcommand{\label}[1]{\marginpar{#1}}
\newcommand{\be}{\begin{equation}}
\newcommand{\ee}{\end{equation}}
\newcommand{\R}{\mathbb{R}}
\begin{document}
\section{Intro}\label{s:intro}
\be x \in \R \label{eq} \ee
\end{document}
"""
    out = clean(src)
    assert out == "\\section{Intro}\\label{s:intro}\n\\begin{equation} x \\in \\mathbb{R} \\label{eq} \\end{equation}\n"


def test_local_packages_and_let_definitions_are_seen():
    sources = {
        "main.tex": ("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage{amsmath,mymacros}\n"
                     "\\let\\eps\\varepsilon\n\\begin{document}\n\\section{S}\n$\\Z \\eps \\pnorm{x}{p}$\n"
                     "\\end{document}\n"),
        "mymacros.sty": "% the author's package\n\\newcommand{\\Z}{\\mathbb{Z}}\n\\def\\pnorm#1#2{\\|#1\\|_{#2}}\n",
    }
    stats = Counter()
    flat = inline_inputs(sources, find_main_file(sources), stats=stats)
    assert "\\usepackage[utf8]{inputenc}" in flat and "\\newcommand{\\Z}" in flat
    assert stats["local_packages"] == 1
    assert clean(flat) == "\\section{S}\n$\\mathbb{Z} \\varepsilon \\|x\\|_{p}$\n"


def test_readme_names_the_top_level_file():
    doc = "\\documentclass{article}\\begin{document}"
    sources = {"long.tex": doc + "x" * 1000, "short.tex": doc + "y",
               "00README.json": '{"spec_version": 1, "sources": [{"filename": "short.tex", "usage": "toplevel"}]}'}
    assert find_main_file(sources) == "short.tex"
    sources["00README.json"] = "{broken"
    assert find_main_file(sources) == "long.tex"
    sources["00README.XXX"] = "short.tex toplevelfile\nlong.tex ignore\n"
    assert find_main_file(sources) == "short.tex"
    commented = {"a.tex": "%\\documentclass{article}\n%\\begin{document}\n" + "z" * 1000, "b.tex": doc + "b"}
    assert find_main_file(commented) == "b.tex"


def test_input_fan_out_is_bounded():
    # each level inputs the next ten times: 10^6 inlinings unless the count limit stops it
    sources = {f"l{i}.tex": "\\input{l%d}" % (i + 1) * 10 for i in range(6)}
    sources["l6.tex"] = "leaf "
    stats = Counter()
    out = inline_inputs(sources, "l0.tex", InlineLimits(max_inputs=500), stats)
    assert out.count("leaf") < 500 and stats["input_over_limit"] > 0


def test_expansion_work_is_bounded():
    # expands to nothing, so the growth cap never triggers; the expansion count does
    names = [f"w{chr(97 + i)}" for i in range(15)]
    defs = "".join(rf"\def\{a}{{\{b}\{b}}}" for a, b in zip(names, names[1:])) + rf"\def\{names[-1]}{{}}"
    macros, rest = collect_macros(defs + rf" $\{names[0]}$" * 20)
    stats = Counter()
    assert expand_macros(rest, macros, ExpandLimits(max_expansions=10_000), stats) == rest
    assert stats["macro_expansion_too_large"] == 1


def test_cleaning_never_raises_on_garbage():
    import random
    rng = random.Random(1234)
    atoms = ["\\newcommand", "\\def", "\\renewcommand*", "\\let", "\\DeclareMathOperator", "{", "}", "[", "]", "#1",
             "#2", "##", "\\x", "\\y", "\\input", "{a}", "%", "\\%", "\\\\", "\n", " ", "\\section", "\\appendix",
             "\\begin{document}", "\\end{document}", "\\begin{abstract}", "\\iffalse", "\\fi", "x", "$", "\\"]
    for _ in range(3000):
        text = "".join(rng.choice(atoms) for _ in range(rng.randint(0, 40)))
        sources = {"main.tex": text, "a.tex": text[::-1]}
        flat = inline_inputs(sources, "main.tex")
        macros, rest = collect_macros(flat)
        expanded = expand_macros(rest, macros)
        trim_paper(expanded, TrimRules())
        find_main_file(sources)


def test_steps_pickle(tmp_path):
    import pickle

    from proofpile.arxiv.readers import RedPajamaArxivReader
    for step in (ArxivSourceReader(str(tmp_path)), RedPajamaArxivReader(str(tmp_path)), LatexMacroExpander(),
                 ArxivBodyFilter(TrimRules())):
        assert type(pickle.loads(pickle.dumps(step))) is type(step)


def test_license_file_attaches_licenses(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "2301.00001.gz").write_bytes(gzip.compress(b"\\documentclass{article}\\begin{document}x\\end{document}"))
    (src / "2301.00002.gz").write_bytes(gzip.compress(b"\\documentclass{article}\\begin{document}y\\end{document}"))
    licenses = tmp_path / "meta.jsonl"
    licenses.write_text('{"id": "2301.00001", "license": "http://creativecommons.org/licenses/by/4.0/"}\n'
                        'not json\n{"id": "2301.00002", "license": null}\n')
    docs = {d.id: d for d in ArxivSourceReader(str(src), license_file=str(licenses)).run(rank=0, world_size=1)}
    assert docs["2301.00001"].metadata["license"] == "http://creativecommons.org/licenses/by/4.0/"
    assert "license" not in docs["2301.00002"].metadata


def test_commands_that_merely_start_like_input_are_left_alone():
    sources = {"main.tex": ("\\documentclass{article}\\begin{document}\n\\inputencoding{utf8}\n"
                            "\\includegraphics[width=0.5\\textwidth]{fig}\n\\includeonly{a}\n\\input{a}\n"
                            "\\end{document}"),
               "a.tex": "A"}
    stats = Counter()
    out = inline_inputs(sources, "main.tex", stats=stats)
    assert "\\inputencoding{utf8}" in out and "\\includegraphics[width=0.5\\textwidth]{fig}" in out
    assert "\\includeonly{a}" in out and "\nA\n" in out and not stats["input_missing"]


def test_subfiles_contribute_their_body():
    sources = {
        "main.tex": ("\\documentclass{article}\n\\usepackage{subfiles}\n\\begin{document}\n\\subfile{sec/one}\n"
                     "\\subfile{sec/two}\n\\end{document}\n"),
        "sec/one.tex": ("\\documentclass[../main.tex]{subfiles}\n\\newcommand{\\K}{\\mathbb{K}}\n\\begin{document}\n"
                        "\\section{One}\nField $\\K$.\n\\end{document}\n"),
        "sec/two.tex": "\\documentclass[../main.tex]{subfiles}\n\\begin{document}\n\\section{Two}\nMore.\n\\end{document}",
    }
    assert find_main_file(sources) == "main.tex"
    out = clean(inline_inputs(sources, "main.tex"))
    assert out == "\\section{One}\nField $\\mathbb{K}$.\n\n\\section{Two}\nMore.\n"
