"""LaTeX source -> paper text: main-file detection, ``\\input`` inlining, comment removal, macro expansion and the
RedPajama-style trim (from the first sectioning command, up to the appendix or bibliography).

Everything works on strings already in memory; ``\\input`` only ever resolves to files of the same paper, never to
the file system.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field

from proofpile.arxiv.archive import normalized_name

# -- decoding -------------------------------------------------------------------------------------------------


def decode_source(data: bytes) -> str:
    """arXiv sources are mostly UTF-8, older ones Latin-1; Latin-1 decodes any byte string, so nothing is lost.
    Line ends become ``\\n`` (many sources were written with CRLF)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# -- comments ---------------------------------------------------------------------------------------------------

_COMMENT_ENV = re.compile(r"\\begin\{comment\}.*?\\end\{comment\}", re.S)
_IFFALSE = re.compile(r"\\iffalse\b.*?\\fi\b", re.S)


def strip_comments(text: str) -> str:
    """Remove ``%`` comments (a ``%`` preceded by an even number of backslashes), keeping escaped ``\\%``, with TeX's
    meaning: a comment also eats its newline, so ``$d$%`` + newline + ``. In fact`` reads ``$d$. In fact``, and a
    line that was only a comment disappears. Also drops ``comment`` environments and ``\\iffalse`` blocks."""
    out: list[str] = []
    current = None  # the line being built: a local, so `+=` extends it in place (no quadratic copying)
    join = False  # the previous kept line ended in a comment: this line continues it
    for line in text.split("\n"):
        cut = _comment_start(line)
        content = line if cut is None else line[:cut]
        if cut is not None and not content.strip():
            continue  # a comment-only line goes, newline and all
        if join and content.strip():
            piece = content.lstrip()
            if piece[:1].isalpha() and _ends_with_control_word(current):
                piece = " " + piece  # `\\foo%` + newline + `bar` is `\\foo bar`, not `\\foobar`
            current += piece
        else:
            if current is not None:
                out.append(current)
            current = content
        join = cut is not None
    if current is not None:
        out.append(current)
    text = "\n".join(out)
    text = _COMMENT_ENV.sub("", text)
    return _IFFALSE.sub("", text)


_ASCII_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _ends_with_control_word(text: str) -> bool:
    """Whether ``text`` ends in a control word (an unescaped backslash and ASCII letters). Looks only at the tail,
    so gluing many comment-continued lines stays linear (a regex search would rescan the whole line each time)."""
    stem = text.rstrip(_ASCII_LETTERS)
    return len(stem) < len(text) and stem.endswith("\\") and not stem.endswith("\\\\")


def _comment_start(line: str) -> int | None:
    start = 0
    while (i := line.find("%", start)) != -1:
        backslashes = 0
        j = i - 1
        while j >= 0 and line[j] == "\\":
            backslashes += 1
            j -= 1
        if backslashes % 2 == 0:
            return i
        start = i + 1
    return None


# -- main file and \input --------------------------------------------------------------------------------------

_DOCUMENTCLASS = re.compile(r"\\document(?:class|style)\b")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
_INPUT = re.compile(r"\\(input|include|subfile)(?![A-Za-z@])\s*(?:\{([^}\n]*)\}|([^\s{}\\%]+))")
_MAIN_NAMES = ("main.tex", "ms.tex", "paper.tex", "article.tex")


def find_main_file(sources: dict[str, str]) -> str | None:
    """The paper's root file: one with ``\\documentclass`` and ``\\begin{document}``. Among several (a paper with
    a supplement, a response letter), prefer one that no other file inputs, then a conventional name, then the
    longest; a lone ``.tex`` with ``\\begin{document}`` will do too."""
    tex = {name: text for name, text in sources.items() if name.lower().endswith((".tex", ".ltx", ".latex"))}
    for name in readme_toplevel(sources):
        if name in tex:
            return name
    tex = {name: strip_comments(text) for name, text in tex.items()}  # a commented-out \\documentclass is none
    candidates = [n for n, t in tex.items() if _DOCUMENTCLASS.search(t) and _BEGIN_DOCUMENT.search(t)]
    if not candidates:
        candidates = [n for n, t in tex.items() if _BEGIN_DOCUMENT.search(t)]
    if not candidates:
        return None
    inputted = set()
    for text in tex.values():
        for m in _INPUT.finditer(text):
            target = resolve_input(sources, "", (m.group(2) or m.group(3) or "").strip())
            if target:
                inputted.add(target)
    roots = [n for n in candidates if n not in inputted] or candidates
    return min(roots, key=lambda n: (n.rsplit("/", 1)[-1].lower() not in _MAIN_NAMES, -len(tex[n]), n))


def readme_toplevel(sources: dict[str, str]) -> list[str]:
    """The top-level files an author named in arXiv's ``00README.json`` (``{"sources": [{"filename", "usage":
    "toplevel"}]}``) or ``00README.XXX`` (lines ``<file> toplevelfile``)."""
    names = []
    for key, text in sources.items():
        lower = key.lower()
        if lower == "00readme.json":
            try:
                data = json.loads(text)
            except ValueError:
                continue
            entries = data.get("sources") if isinstance(data, dict) else None
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and entry.get("usage") == "toplevel" and entry.get("filename"):
                    names.append(normalized_name(str(entry["filename"])))
        elif lower in ("00readme.xxx", "00readme"):
            for line in text.splitlines():
                parts = line.split()
                if len(parts) >= 2 and parts[1].lower() in ("toplevelfile", "toplevel"):
                    names.append(normalized_name(parts[0]))
    return names


def resolve_input(sources: dict[str, str], base_dir: str, target: str) -> str | None:
    """The name of the paper file ``\\input{target}`` means, or None. Only names inside the paper exist here:
    absolute paths and ``..`` cannot reach anything else."""
    target = target.strip().strip('"').replace("\\", "/")
    if not target or target.startswith("/") or ".." in target.split("/"):
        return None
    target = target.removeprefix("./")
    for name in (target, target + ".tex"):
        for candidate in ((base_dir + "/" + name) if base_dir else name, name):
            if candidate in sources:
                return candidate
    return None


@dataclass
class InlineLimits:
    max_depth: int = 8
    max_chars: int = 8 << 20  # of the flattened document
    max_inputs: int = 2000  # inlinings per paper: a file that inputs another a thousand times, nested, stops here


_INPUT_OR_PACKAGE = re.compile(_INPUT.pattern + r"|\\usepackage\s*(?:\[[^\]]*\]\s*)?\{(?P<packages>[^}]*)\}")


def inline_inputs(sources: dict[str, str], main: str, limits: InlineLimits = InlineLimits(),
                  stats: Counter | None = None) -> str:
    """The main file with ``\\input``/``\\include``/``\\subfile`` replaced by the (comment-stripped) files they
    name, recursively, and ``\\usepackage{x}`` of a package the paper ships (``x.sty``) by that package, so its
    macro definitions are seen. A file already being inlined (a cycle), one past ``max_depth``, past ``max_inputs``
    or ``max_chars``, or one missing from the paper is left out and counted in ``stats``."""
    stats = stats if stats is not None else Counter()
    size = [0]
    count = [0]

    def inline(target: str | None, stack: tuple[str, ...]) -> str:
        if target is None or not target.lower().endswith((".tex", ".ltx", ".latex", ".sty", ".bbl")):
            stats["input_missing"] += 1
            return ""
        if target in stack:
            stats["input_cycle"] += 1
            return ""
        if len(stack) >= limits.max_depth:
            stats["input_too_deep"] += 1
            return ""
        count[0] += 1
        if count[0] > limits.max_inputs or size[0] + len(sources[target]) > limits.max_chars:
            stats["input_over_limit"] += 1
            return ""
        size[0] += len(sources[target])
        return "\n" + document_body(expand(target, stack + (target,))) + "\n"

    def expand(name: str, stack: tuple[str, ...]) -> str:
        text = strip_comments(sources[name])
        base_dir = name.rsplit("/", 1)[0] if "/" in name else ""

        def replace(m: re.Match) -> str:
            if m.group("packages") is None:
                return inline(resolve_input(sources, base_dir, m.group(2) or m.group(3) or ""), stack)
            local = [resolve_input(sources, base_dir, p.strip() + ".sty") for p in m.group("packages").split(",")]
            if not any(local):
                return m.group(0)  # system packages: keep the line as it is
            stats["local_packages"] += sum(1 for p in local if p)
            return "".join(inline(p, stack) for p in local if p)

        return _INPUT_OR_PACKAGE.sub(replace, text)

    return expand(main, (main,))


def document_body(text: str) -> str:
    """An inlined file that is a document of its own (``subfiles``, a standalone section) contributes only what is
    between its ``\\begin{document}`` and ``\\end{document}``; its preamble's definitions are kept before it."""
    begin = _BEGIN_DOCUMENT.search(text)
    if not begin:
        return text
    end = _END_DOCUMENT.search(text, begin.end())
    macros, _ = collect_macros(text[:begin.start()])
    definitions = "".join(definition_source(name, macro) for name, macro in macros.items())
    return definitions + text[begin.end():end.start() if end else len(text)]


# -- macros ---------------------------------------------------------------------------------------------------


@dataclass
class Macro:
    body: str
    nargs: int = 0
    default: str | None = None  # the default of an optional first argument ([#1])


def definition_source(name: str, macro: Macro) -> str:
    """A macro written back as a ``\\newcommand`` (one line, so it can move between files)."""
    args = f"[{macro.nargs}]" if macro.nargs else ""
    if macro.default is not None:
        args += f"[{macro.default}]"
    return f"\\newcommand{{\\{name}}}{args}{{{macro.body}}}\n"


_NEWCOMMAND = re.compile(r"\\(?:re)?(?:new|provide)command\s*\*?\s*")
_DEF = re.compile(r"\\(?:g|e|x)?def\s*\\([A-Za-z]+)\s*")
_MATHOP = re.compile(r"\\DeclareMathOperator\s*(\*?)\s*")
_LET = re.compile(r"\\let\s*\\([A-Za-z]+)\s*=?\s*\\([A-Za-z]+|[^A-Za-z\s])")
_CS_NAME = re.compile(r"\\([A-Za-z]+|.)")


def _group(text: str, i: int, open_: str = "{", close: str = "}") -> tuple[str, int] | None:
    """The balanced group starting at ``text[i]`` (which must be ``open_``): (content, index after it)."""
    if i >= len(text) or text[i] != open_:
        return None
    depth = 0
    j = i
    while j < len(text):
        c = text[j]
        if c == "\\":
            j += 2
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return text[i + 1:j], j + 1
        j += 1
    return None


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n":
        i += 1
    return i


def _parse_newcommand(text: str, i: int) -> tuple[str, Macro, int] | None:
    """After ``\\newcommand*``: ``{\\name}`` or ``\\name``, optional ``[n]``, optional ``[default]``, ``{body}``."""
    i = _skip_space(text, i)
    if i < len(text) and text[i] == "{":
        g = _group(text, i)
        if not g:
            return None
        m = _CS_NAME.fullmatch(g[0].strip())
        if not m:
            return None
        name, i = m.group(1), g[1]
    else:
        m = _CS_NAME.match(text, i)
        if not m:
            return None
        name, i = m.group(1), m.end()
    i = _skip_space(text, i)
    nargs, default = 0, None
    g = _group(text, i, "[", "]")
    if g:
        if not g[0].strip().isdigit():
            return None
        nargs, i = int(g[0]), _skip_space(text, g[1])
        g = _group(text, i, "[", "]")
        if g:
            default, i = g[0], _skip_space(text, g[1])
    g = _group(text, i)
    if not g or not 0 <= nargs <= 9:
        return None
    return name, Macro(g[0], nargs, default), g[1]


def _parse_def(text: str, m: re.Match) -> tuple[str, Macro, int] | None:
    """``\\def\\name#1#2{body}``: only plain parameter texts (``#1#2...``) are understood."""
    i = m.end()
    params = re.match(r"(?:#[1-9]\s*)*", text[i:])
    spec = params.group(0)
    nargs = spec.count("#")
    if [int(d) for d in re.findall(r"#([1-9])", spec)] != list(range(1, nargs + 1)):
        return None
    i = _skip_space(text, i + len(spec))
    g = _group(text, i)
    if not g:
        return None
    return m.group(1), Macro(g[0], nargs), g[1]


def collect_macros(text: str) -> tuple[dict[str, Macro], str]:
    """Find ``\\newcommand``/``\\renewcommand``/``\\providecommand``/``\\def``/``\\DeclareMathOperator``/``\\let``
    definitions; return them (a later definition wins, like TeX) and the text with the definitions removed."""
    macros: dict[str, Macro] = {}
    out = []
    pos = 0
    pattern = re.compile(r"\\(?:re)?(?:new|provide)command|\\[gex]?def\s*\\[A-Za-z]|\\DeclareMathOperator|\\let\b")
    for m in pattern.finditer(text):
        if m.start() < pos:
            continue
        parsed = None
        if (nc := _NEWCOMMAND.match(text, m.start())):
            parsed = _parse_newcommand(text, nc.end())
            if parsed and text.startswith("\\providecommand", m.start()) and parsed[0] in macros:
                parsed = (parsed[0], macros[parsed[0]], parsed[2])
        elif (d := _DEF.match(text, m.start())):
            parsed = _parse_def(text, d)
        elif (op := _MATHOP.match(text, m.start())):
            parsed = _parse_newcommand(text, op.end())
            if parsed:
                star = "*" if op.group(1) else ""
                parsed = (parsed[0], Macro(f"\\operatorname{star}{{{parsed[1].body}}}"), parsed[2])
        elif (let := _LET.match(text, m.start())):
            # \\let\\a\\b: \\a means what \\b means now (its current definition if it is one of ours)
            target = let.group(2)
            parsed = (let.group(1), macros.get(target, Macro("\\" + target)), let.end())
        if parsed is None:
            continue
        name, macro, end = parsed
        macros[name] = macro
        out.append(text[pos:m.start()])
        pos = end
    out.append(text[pos:])
    return macros, "".join(out)


@dataclass
class ExpandLimits:
    max_depth: int = 16  # nested expansions (macros defined through macros)
    max_growth: float = 4.0  # the expanded text may be at most this many times longer (+64 KiB) than the input
    max_expansions: int = 200_000  # macro uses expanded per document, nested ones included


class _TooLarge(Exception):
    pass


_INTERNAL = re.compile(r"\\[A-Za-z]*@")


def notation_macros(macros: dict[str, Macro], protected=frozenset(), stats: Counter | None = None) -> dict[str, Macro]:
    """The macros worth expanding: notation, not machinery. Redefinitions of commands the cleaning relies on
    (``protected``: ``\\section``, ``\\begin``, ...) and macros written with LaTeX internals (``\\@startsection``,
    only meaningful under ``\\makeatletter``) are left alone, so ``\\renewcommand\\section{\\@startsection...}``
    in a preamble does not turn every section heading into layout code."""
    stats = stats if stats is not None else Counter()
    kept = {}
    for name, macro in macros.items():
        if name in protected:
            stats["macro_protected"] += 1
        elif _INTERNAL.search(macro.body) or (macro.default and _INTERNAL.search(macro.default)):
            stats["macro_internal"] += 1
        else:
            kept[name] = macro
    return kept


def expand_macros(text: str, macros: dict[str, Macro], limits: ExpandLimits = ExpandLimits(),
                  stats: Counter | None = None) -> str:
    """Replace uses of ``macros`` by their bodies, substituting ``#1``..``#9`` with the arguments (a braced group or
    a single token). A macro is not re-expanded inside its own expansion (so ``\\renewcommand{\\vec}[1]{\\vec{...}}``
    terminates), nesting is bounded, and so is the growth of the text: past it the text is left unexpanded."""
    stats = stats if stats is not None else Counter()
    if not macros:
        return text
    budget = [int(len(text) * limits.max_growth) + (64 << 10), limits.max_expansions]
    try:
        return _expand(text, macros, frozenset(), 0, limits, stats, budget)
    except _TooLarge:
        stats["macro_expansion_too_large"] += 1
        return text


_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|.", re.S)


def _argument(text: str, i: int) -> tuple[str, int] | None:
    i = _skip_space(text, i)
    if i >= len(text):
        return None
    if text[i] == "{":
        return _group(text, i)
    if text[i] == "}":
        return None
    m = _TOKEN.match(text, i)
    return m.group(0), m.end()


def _expand(text: str, macros, active: frozenset, depth: int, limits: ExpandLimits, stats: Counter, budget) -> str:
    out = []
    pos = 0
    i = 0
    n = len(text)
    while (i := text.find("\\", i)) != -1:
        m = _CS_NAME.match(text, i)
        if not m:
            break
        name = m.group(1)
        macro = macros.get(name)
        if macro is None or name in active or depth >= limits.max_depth:
            if macro is not None and depth >= limits.max_depth:
                stats["macro_too_deep"] += 1
            i = m.end()
            continue
        j = m.end()
        args = []
        if macro.nargs:
            first = 0
            if macro.default is not None:
                k = _skip_space(text, j)
                opt = _group(text, k, "[", "]")
                if opt:
                    args.append(opt[0])
                    j = opt[1]
                else:
                    args.append(macro.default)
                first = 1
            for _ in range(first, macro.nargs):
                arg = _argument(text, j)
                if arg is None:
                    break
                args.append(arg[0])
                j = arg[1]
            if len(args) < macro.nargs:
                stats["macro_missing_argument"] += 1
                i = m.end()
                continue
        body = macro.body
        if args:
            body = re.sub(r"#([1-9#])", lambda g: "#" if g.group(1) == "#" else
                          (args[int(g.group(1)) - 1] if int(g.group(1)) <= len(args) else ""), body)
        budget[1] -= 1
        if budget[1] < 0:
            raise _TooLarge
        body = _expand(body, macros, active | {name}, depth + 1, limits, stats, budget)
        # a control word swallows the spaces after it; its expansion must not glue onto a following letter
        if j < n and text[j].isalpha() and body and (body[-1].isalpha() or re.search(r"\\[A-Za-z]+$", body)):
            body += " "
        budget[0] -= len(body) - (j - i)
        if budget[0] < 0:
            raise _TooLarge
        out.append(text[pos:i])
        out.append(body)
        stats["macros_expanded"] += 1
        pos = i = j
    out.append(text[pos:])
    return "".join(out)


# -- trimming -------------------------------------------------------------------------------------------------


@dataclass
class TrimRules:
    """Where a paper's text starts and ends (see ``filters/arxiv/cleaning.yaml``)."""

    section_commands: list[str] = field(default_factory=lambda: [
        "part", "chapter", "section", "subsection", "subsubsection", "paragraph", "subparagraph"])
    appendix_markers: list[str] = field(default_factory=lambda: [r"\\appendix\b", r"\\begin\s*\{appendices\}"])
    bibliography_markers: list[str] = field(default_factory=lambda: [
        r"\\begin\s*\{thebibliography\}", r"\\bibliography\s*\{", r"\\printbibliography\b",
        r"\\bibliographystyle\s*\{", r"\\begin\s*\{references\}"])
    drop_appendix: bool = True
    drop_bibliography: bool = True
    keep_abstract: bool = True
    require_section: bool = False  # RedPajama drops papers without sections; we fall back to \begin{document}

    def section_pattern(self) -> re.Pattern:
        names = "|".join(map(re.escape, self.section_commands))
        return re.compile(rf"\\(?:{names})\*?\s*(?:\[[^\]]*\]\s*)?\{{")


_ABSTRACT = re.compile(r"\\begin\s*\{abstract\}.*?\\end\s*\{abstract\}", re.S)


def trim_paper(text: str, rules: TrimRules, stats: Counter | None = None) -> str | None:
    """Keep the paper's body: from its first sectioning command (the abstract before it kept if configured) to
    ``\\end{document}``, the appendix or the bibliography, whichever comes first. None if there is no body."""
    stats = stats if stats is not None else Counter()
    begin = _BEGIN_DOCUMENT.search(text)
    body_start = begin.end() if begin else 0
    section = rules.section_pattern().search(text, body_start)
    if section is not None:
        start = section.start()
    elif rules.require_section:
        return None
    else:
        stats["no_section"] += 1
        start = body_start
    abstract = ""
    if rules.keep_abstract and section is not None:
        a = _ABSTRACT.search(text, body_start, start)
        if a:
            abstract = a.group(0) + "\n\n"
    end = len(text)
    markers = [_END_DOCUMENT.pattern]
    if rules.drop_appendix:
        markers += rules.appendix_markers
    if rules.drop_bibliography:
        markers += rules.bibliography_markers
    for pattern in markers:
        m = re.compile(pattern).search(text, start)
        if m and m.start() < end:
            end = m.start()
    body = text[start:end]
    return (abstract + body) if body.strip() else None


_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def normalize_whitespace(text: str) -> str:
    text = _TRAILING_SPACE.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"
