"""LaTeX source -> paper text: main-file detection, ``\\input`` inlining, comment removal, macro expansion and the
RedPajama-style trim (from the first sectioning command, up to the appendix or bibliography).

Everything works on strings already in memory; ``\\input`` only ever resolves to files of the same paper, never to
the file system.
"""

from __future__ import annotations

import functools
import operator
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property

import orjson

from proofpile.arxiv.archive import normalized_name

# -- decoding -------------------------------------------------------------------------------------------------


def decode_source(data: bytes, stats: Counter | None = None) -> str:
    """arXiv sources are mostly UTF-8; older ones Latin-1 (or Windows-1252), some Shift-JIS, GB2312, KOI8-R...
    whatever the author's editor wrote. Not UTF-8: charset-normalizer finds the encoding; when the text it finds is
    in Latin letters (its guess among the many Latin code pages is unreliable on short texts), Latin-1 decodes it as
    before (Windows-1252 when its 0x80-0x9F bytes are quotes and dashes); otherwise (CJK, Cyrillic, Greek...) its
    encoding is used. Either way the encoding is counted as ``source_encoding/<name>``. Latin-1 decodes any bytes,
    so nothing is lost. Line ends become ``\\n`` (many sources were written with CRLF)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text, encoding = _decode_legacy(data)
        if stats is not None:
            stats[f"source_encoding/{encoding}"] += 1
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


# Unicode blocks of Latin-script text (charset-normalizer's ``alphabets`` names, by prefix)
_LATIN_BLOCKS = ("Basic Latin", "Latin", "Control character", "General Punctuation", "Spacing Modifier Letters",
                 "Letterlike Symbols", "Alphabetic Presentation Forms", "Currency Symbols", "Mathematical Operators",
                 "Block Elements", "Box Drawing", "Geometric Shapes")
_C1_CONTROLS = re.compile(rb"[\x80-\x9f]")


def _decode_legacy(data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None and not all(a.startswith(_LATIN_BLOCKS) for a in best.alphabets):
        return str(best), best.encoding
    if _C1_CONTROLS.search(data):
        try:
            return data.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1"), "latin_1"


# -- comments ---------------------------------------------------------------------------------------------------

_COMMENT_ENV = (re.compile(r"\\begin\{comment\}"), re.compile(r"\\end\{comment\}"))
_IFFALSE = (re.compile(r"\\iffalse\b"), re.compile(r"\\fi\b"))
# where TeX reads ``%`` as a character, not a comment: verbatim environments, \verb, and the arguments of the
# url commands (hyperref and url read them verbatim)
_VERBATIM_BEGIN = re.compile(r"\\begin\s*\{(verbatim\*?|Verbatim\*?|lstlisting|minted|alltt)\}")
_VERBATIM_SPANS = re.compile(r"\\(?:url|href|path|nolinkurl)\s*\{[^}]{0,2048}\}|\\verb\*?([^A-Za-z\s*]).*?(?:\1|$)")


def strip_comments(text: str) -> str:
    """Remove ``%`` comments (a ``%`` preceded by an even number of backslashes), keeping escaped ``\\%``, with TeX's
    meaning: a comment also eats its newline, so ``$d$%`` + newline + ``. In fact`` reads ``$d$. In fact``, and a
    line that was only a comment disappears. A ``%`` inside ``\\url{}``, ``\\href{}``, ``\\verb`` or a verbatim
    environment is text. Also drops ``comment`` environments and ``\\iffalse`` blocks."""
    out: list[str] = []
    current = None  # the line being built: a local, so `+=` extends it in place (no quadratic copying)
    join = False  # the previous kept line ended in a comment: this line continues it
    verbatim_end = None  # inside a verbatim environment: the ``\\end{...}`` that closes it
    pos, n = 0, len(text)  # the next line starts at pos
    # where the next % and the next verbatim environment are (-1: none), looked for again once pos is past them
    percent = text.find("%")
    verbatim = m.start() if (m := _VERBATIM_BEGIN.search(text)) else -1
    while pos <= n:
        if not join:
            # the lines before the next one holding a % or opening a verbatim environment (inside one: before the
            # one closing it) are kept as they are, in one piece, without looking at them line by line
            if verbatim_end is None:
                if 0 <= percent < pos:
                    percent = text.find("%", pos)
                if 0 <= verbatim < pos:
                    verbatim = m.start() if (m := _VERBATIM_BEGIN.search(text, pos)) else -1
                at = min(percent, verbatim) if percent >= 0 and verbatim >= 0 else max(percent, verbatim)
            else:
                at = text.find(verbatim_end, pos)
            start = n + 1 if at == -1 else text.rfind("\n", pos, at) + 1
            if start > pos:
                if current is not None:
                    out.append(current)
                current = text[pos:start - 1]
                pos = start
                if pos > n:
                    break
        end = text.find("\n", pos)
        end = n if end == -1 else end
        line = text[pos:end]
        pos = end + 1
        if verbatim_end is not None:
            end = line.find(verbatim_end)
            if end == -1:
                cut = None
            else:
                cut = _comment_start(line, end + len(verbatim_end))
                verbatim_end = None
        else:
            cut = _comment_start(line) if "%" in line else None
            begin = _VERBATIM_BEGIN.search(line, 0, len(line) if cut is None else cut) if "\\begin" in line else None
            if begin is not None:
                closing = "\\end{" + begin.group(1) + "}"
                end = line.find(closing, begin.end())
                if end == -1:
                    verbatim_end, cut = closing, None
                else:
                    cut = _comment_start(line, end + len(closing))
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
    text = drop_blocks(text, *_COMMENT_ENV)
    return drop_blocks(text, *_IFFALSE)


def drop_blocks(text: str, begin: re.Pattern, end: re.Pattern) -> str:
    """``text`` without the blocks from a ``begin`` match to the first ``end`` match after it, in one pass. A begin
    without an end is left as it is (a regex ``begin.*?end`` would rescan to the end of the text from each one)."""
    out = []
    pos = 0
    while (b := begin.search(text, pos)) is not None:
        e = end.search(text, b.end())
        if e is None:
            break
        out.append(text[pos:b.start()])
        pos = e.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_ASCII_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _ends_with_control_word(text: str) -> bool:
    """Whether ``text`` ends in a control word (an unescaped backslash and ASCII letters). Looks only at the tail
    (control words are short), so gluing many comment-continued lines stays linear even after a long run of
    letters."""
    tail = text[-64:]
    stem = tail.rstrip(_ASCII_LETTERS)
    return len(stem) < len(tail) and stem.endswith("\\") and not stem.endswith("\\\\")


def _comment_start(line: str, start: int = 0) -> int | None:
    spans = None  # verbatim spans of the line, found only when it holds a % and something that reads one
    while (i := line.find("%", start)) != -1:
        backslashes = 0
        j = i - 1
        while j >= 0 and line[j] == "\\":
            backslashes += 1
            j -= 1
        if backslashes % 2 == 0:
            if spans is None:
                spans = [m.span() for m in _VERBATIM_SPANS.finditer(line, start)] if "\\" in line else []
            inside = next((e for s, e in spans if s < i < e), None)
            if inside is None:
                return i
            start = inside
            continue
        start = i + 1
    return None


# -- main file and \input --------------------------------------------------------------------------------------

_DOCUMENTCLASS = re.compile(r"\\document(?:class|style)\b")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
_INPUT = re.compile(r"\\(input|include|subfile)(?![A-Za-z@])\s*(?:\{([^}\n]*)\}|([^\s{}\\%]+))")
_MAIN_NAMES = ("main.tex", "ms.tex", "paper.tex", "article.tex")


def find_main_file(sources: dict[str, str], stats: Counter | None = None,
                   stripped: dict[str, str] | None = None) -> str | None:
    """The paper's root file. The one the author named in ``00README`` if any; else, among the roots of the
    ``\\input``/``\\include`` graph (files no other file inputs) that are or reach a document (``\\documentclass``
    and ``\\begin{document}``, or failing any, ``\\begin{document}``), the one that reaches the most content
    (non-blank characters, comments removed), then a conventional name, then the name. So a wrapper that inputs the
    file holding ``\\documentclass`` wins over a short reply letter with a ``\\documentclass`` of its own. Which rule
    decided is counted in ``stats`` as ``main_file/<reason>``: ``readme``, ``only_root``, ``most_content``,
    ``conventional_name`` or ``name``. ``stripped`` (name -> text without comments) is filled for
    ``inline_inputs`` to reuse."""
    stats = stats if stats is not None else Counter()
    tex = {name: text for name, text in sources.items() if name.lower().endswith((".tex", ".ltx", ".latex"))}
    for name in readme_toplevel(sources, stats):
        if name in tex:
            stats["main_file/readme"] += 1
            return name
    stripped = stripped if stripped is not None else {}
    for name, text in tex.items():  # a commented-out \\documentclass is none
        if name not in stripped:
            stripped[name] = strip_comments(text)
    tex = {name: stripped[name] for name in tex}
    documents = {n for n, t in tex.items() if _DOCUMENTCLASS.search(t) and _BEGIN_DOCUMENT.search(t)}
    if not documents:
        documents = {n for n, t in tex.items() if _BEGIN_DOCUMENT.search(t)}
    if not documents:
        return None
    inputs = {name: _inputs_of(sources, name, text) for name, text in tex.items()}
    inputted = set().union(*inputs.values())
    reaches = {}  # root -> the files it reaches, for the roots that reach a document
    for root in sorted(tex):
        if root in inputted and root not in documents:
            continue
        reach = _reachable(root, inputs)
        if reach & documents:
            reaches[root] = reach
    roots = [n for n in reaches if n not in inputted] or list(reaches)  # documents inputted in a cycle: any will do
    if len(roots) == 1:
        stats["main_file/only_root"] += 1
        return roots[0]
    content = {}  # non-blank characters, counted only when roots compete (a reached .bbl or .sty counts too)
    for name in set().union(*(reaches[n] for n in roots)):
        text = tex.get(name, sources[name])
        content[name] = len(text) - sum(text.count(c) for c in " \t\n")
    scores = {n: sum(content[f] for f in reaches[n]) for n in roots}
    ranked = sorted(roots, key=lambda n: (-scores[n], n.rsplit("/", 1)[-1].lower() not in _MAIN_NAMES, n))
    best = ranked[0]
    if scores[ranked[1]] < scores[best]:
        reason = "most_content"
    elif (ranked[1].rsplit("/", 1)[-1].lower() in _MAIN_NAMES) != (best.rsplit("/", 1)[-1].lower() in _MAIN_NAMES):
        reason = "conventional_name"
    else:
        reason = "name"
    stats[f"main_file/{reason}"] += 1
    return best


def _inputs_of(sources: dict[str, str], name: str, text: str) -> set[str]:
    base_dir = name.rsplit("/", 1)[0] if "/" in name else ""
    found = set()
    for m in _INPUT.finditer(text):
        target = resolve_input(sources, base_dir, (m.group(2) or m.group(3) or "").strip())
        if target and target != name:
            found.add(target)
    return found


def _reachable(root: str, inputs: dict[str, set[str]]) -> set[str]:
    seen, todo = {root}, [root]
    while todo:
        for target in inputs.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def readme_toplevel(sources: dict[str, str], stats: Counter | None = None) -> list[str]:
    """The top-level files an author named in arXiv's ``00README.json`` (``{"sources": [{"filename", "usage":
    "toplevel"}]}``) or ``00README.XXX`` (lines ``<file> toplevelfile``). A README that cannot be read (not JSON,
    nested past orjson's depth limit) is ignored and counted as ``readme_unreadable``."""
    names = []
    for key, text in sources.items():
        lower = key.lower()
        if lower == "00readme.json":
            try:
                data = orjson.loads(text)
            except orjson.JSONDecodeError:  # also what orjson raises past 1024 levels of nesting: no recursion
                if stats is not None:
                    stats["readme_unreadable"] += 1
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
                  stats: Counter | None = None, stripped: dict[str, str] | None = None) -> str:
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

    stripped = stripped if stripped is not None else {}

    def expand(name: str, stack: tuple[str, ...]) -> str:
        text = stripped.get(name)
        if text is None:
            text = stripped[name] = strip_comments(sources[name])
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

    @cached_property
    def placeholders(self) -> list[int]:
        """How often ``##`` (index 0) and ``#1``..``#9`` occur in the body: the size of a use is known before it
        is built."""
        # counted in C: a body may repeat #1 a million times. `##1` counts as both ## and #1, so the size
        # estimated from these is never too small
        return [self.body.count("##")] + [self.body.count(f"#{k}") for k in range(1, 10)]

    @cached_property
    def fixed_size(self) -> int:
        """The size of a use without its arguments: the body less its placeholders (``##`` counted as one)."""
        counts = self.placeholders
        return len(self.body) - counts[0] - 2 * sum(counts[1:self.nargs + 1])

    @cached_property
    def format(self) -> str:
        """The body as a ``str.format`` template of its arguments: a use is one call in C."""
        return "".join(p.replace("{", "{{").replace("}", "}}") if p.__class__ is str else f"{{{p}}}"
                       for p in self.template)

    @cached_property
    def template(self) -> list[str | int]:
        """The body split at its placeholders: literal text and argument numbers (0-based), so a use is one join."""
        parts: list[str | int] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(self.body):
            parts.append(self.body[pos:m.start()])
            k = int(m.group(1)) - 1 if m.group(1) != "#" else -1
            parts.append("#" if k < 0 else k if k < self.nargs else "")  # #n past the arguments: nothing
            pos = m.end()
        parts.append(self.body[pos:])
        return parts


_PLACEHOLDER = re.compile(r"#([1-9#])")


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
_CS_NAME = re.compile(r"\\([A-Za-z]+|.)", re.S)  # re.S: a backslash before a newline is a control symbol


class _Groups:
    """The balanced ``{}`` and ``[]`` groups of one text. One forward scan from an opening resolves it and every
    opening inside it (closed, or never closed: to the end of the text), and a later question about any of them is
    a lookup: scanning again from each opening would be quadratic when groups are left open (8k unclosed
    ``\\newcommand{`` took a minute)."""

    # a brace, or an escape that hides one (``\\{``, ``\\}``) or hides a backslash (``\\\\``, so the brace after it
    # counts); other escapes need no token: the character they hide is no brace
    _TOKENS = {"{": re.compile(r"\\[\\{}]|[{}]"), "[": re.compile(r"\\[\\\[\]]|[\[\]]")}

    def __init__(self, text: str):
        self.text = text
        self._ends: dict[str, dict[int, int]] = {"{": {}, "[": {}}
        self._last_close: dict[str, int] = {}  # where the last closing character is: no group opened after it closes

    def group(self, i: int, open_: str = "{", close: str = "}") -> tuple[str, int] | None:
        """The balanced group starting at ``text[i]`` (which must be ``open_``): (content, index after it)."""
        text = self.text
        if i >= len(text) or text[i] != open_:
            return None
        ends = self._ends[open_]
        j = ends.get(i)
        if j is None:
            last = self._last_close.get(close)
            if last is None:
                last = self._last_close[close] = text.rfind(close)
            j = -1 if i > last else self._scan(i, open_, close, ends)
        return None if j < 0 else (text[i + 1:j], j + 1)

    def _scan(self, i: int, open_: str, close: str, ends: dict[int, int]) -> int:
        stack = []
        for m in self._TOKENS[open_].finditer(self.text, i):
            c = m.group()
            if c == open_:
                stack.append(m.start())
            elif c == close and stack:
                ends[stack.pop()] = m.start()
                if not stack:
                    return ends[i]
        for start in stack:
            ends[start] = -1  # never closed
        return -1


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\n":
        i += 1
    return i


def _parse_newcommand(groups: _Groups, i: int) -> tuple[str, Macro, int] | None:
    """After ``\\newcommand*``: ``{\\name}`` or ``\\name``, optional ``[n]``, optional ``[default]``, ``{body}``."""
    text = groups.text
    i = _skip_space(text, i)
    if i < len(text) and text[i] == "{":
        g = groups.group(i)
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
    g = groups.group(i, "[", "]")
    if g:
        if not g[0].strip().isdigit():
            return None
        nargs, i = int(g[0]), _skip_space(text, g[1])
        g = groups.group(i, "[", "]")
        if g:
            default, i = g[0], _skip_space(text, g[1])
    g = groups.group(i)
    if not g or not 0 <= nargs <= 9:
        return None
    return name, Macro(g[0], nargs, default), g[1]


_DEF_PARAMS = re.compile(r"(?:#[1-9]\s*)*")


def _parse_def(groups: _Groups, m: re.Match) -> tuple[str, Macro, int] | None:
    """``\\def\\name#1#2{body}``: only plain parameter texts (``#1#2...``) are understood."""
    text = groups.text
    i = m.end()
    spec = _DEF_PARAMS.match(text, i).group(0)
    nargs = spec.count("#")
    if [int(d) for d in re.findall(r"#([1-9])", spec)] != list(range(1, nargs + 1)):
        return None
    i = _skip_space(text, i + len(spec))
    g = groups.group(i)
    if not g:
        return None
    return m.group(1), Macro(g[0], nargs), g[1]


def collect_macros(text: str) -> tuple[dict[str, Macro], str]:
    """Find ``\\newcommand``/``\\renewcommand``/``\\providecommand``/``\\def``/``\\DeclareMathOperator``/``\\let``
    definitions; return them (a later definition wins, like TeX) and the text with the definitions removed."""
    macros: dict[str, Macro] = {}
    out = []
    pos = 0
    groups = _Groups(text)
    pattern = re.compile(r"\\(?:re)?(?:new|provide)command|\\[gex]?def\s*\\[A-Za-z]|\\DeclareMathOperator|\\let\b")
    for m in pattern.finditer(text):
        if m.start() < pos:
            continue
        parsed = None
        if (nc := _NEWCOMMAND.match(text, m.start())):
            parsed = _parse_newcommand(groups, nc.end())
            if parsed and text.startswith("\\providecommand", m.start()) and parsed[0] in macros:
                parsed = (parsed[0], macros[parsed[0]], parsed[2])
        elif (d := _DEF.match(text, m.start())):
            parsed = _parse_def(groups, d)
        elif (op := _MATHOP.match(text, m.start())):
            parsed = _parse_newcommand(groups, op.end())
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
    run = _Expansion(macros, limits, stats, [int(len(text) * limits.max_growth) + (64 << 10), limits.max_expansions])
    try:
        out = run.expand(text, frozenset(), 0)
    except _TooLarge:
        stats["macro_expansion_too_large"] += 1
        return text
    if run.expanded:
        stats["macros_expanded"] += run.expanded
    return out


_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|.", re.S)


_RUNAWAY = ("", -1)  # an argument whose group never closes: TeX's "Runaway argument", the rest of the text
_SIMPLE_GROUP = re.compile(r"\{([^{}\\]*)\}")  # no nested group, no escape: its first } closes it


def _argument(groups: _Groups, i: int) -> tuple[str, int] | None:
    text = groups.text
    i = _skip_space(text, i)
    if i >= len(text):
        return None
    if text[i] == "{":
        if m := _SIMPLE_GROUP.match(text, i):
            return m.group(1), m.end()
        return groups.group(i) or _RUNAWAY
    if text[i] == "}":
        return None
    m = _TOKEN.match(text, i)
    return m.group(0), m.end()


def _uses(macros: dict[str, Macro]) -> re.Pattern | None:
    """A pattern finding the uses of ``macros`` (group 1: the name; the use starts one character before it), so
    the other control sequences of a text are skipped by the regex engine, not looked up one by one. A match starts
    at the first of a run of backslashes and takes its escaped pairs (``\\\\``, which hide what follows them)
    possessively, so a use is a name after an odd number of backslashes, without a match per pair. None: no
    macros (``\\\\`` itself never expands)."""
    words = sorted((n for n in macros if n.isascii() and n.isalpha()), key=len, reverse=True)
    symbols = "".join(re.escape(n) for n in macros if not (n.isascii() and n.isalpha()) and n != "\\")
    alternatives = []
    if words:
        alternatives.append("(?:" + "|".join(map(re.escape, words)) + ")(?![A-Za-z])")
    if symbols:
        alternatives.append(f"[{symbols}]")
    if not alternatives:
        return None
    # a backslash not after another (a literal first, so the regex engine skips from backslash to backslash), the
    # pairs after it, the name; group 2: a simple group right after the name (``_SIMPLE_GROUP``), most often the
    # first argument, taken here by the regex engine instead of by ``_argument``
    return re.compile(r"\\(?<!\\\\)(?:\\\\)*+(" + "|".join(alternatives) + r")(?:\{([^{}\\]*)\})?", re.S)


class _Expansion:
    """One expansion of one text: the macros, the pattern of their uses, the limits and the remaining budget
    (``budget[0]``: characters of growth, ``budget[1]``: expansions)."""

    def __init__(self, macros: dict[str, Macro], limits: ExpandLimits, stats: Counter, budget: list[int]):
        self.macros, self.limits, self.stats, self.budget = macros, limits, stats, budget
        self.uses = _uses(macros)
        # which bodies use macros themselves (expanded in turn); the others are final once their arguments are in
        self.nested = {name: self.uses is not None and self.uses.search(macro.body) is not None
                       for name, macro in macros.items()}
        # the common uses, taken without the general argument parsing: argument-free macros whose bodies use no
        # macro (most notation: \ZZ -> \mathbb{Z}), and one-argument macros without a default, for a first
        # argument the pattern took (a simple group, so nothing in it to expand)
        self.leaves = {name: (m.body, _can_glue(m.body)) for name, m in macros.items()
                       if not m.nargs and not self.nested[name]}
        self.unary = {name: m for name, m in macros.items() if m.nargs == 1 and m.default is None}
        self.expanded = 0

    def expand(self, text: str, active: frozenset, depth: int) -> str:
        macros, budget, leaves, unary, nested = self.macros, self.budget, self.leaves, self.unary, self.nested
        too_deep = depth >= self.limits.max_depth
        out = []
        pos = 0
        n = len(text)
        groups = None
        expanded = 0
        for m in self.uses.finditer(text) if self.uses is not None else ():
            i = m.start(1) - 1  # the backslash
            name = m[1]
            if i < pos or name in active:
                continue  # in arguments already taken, or a macro inside its own expansion
            if too_deep:
                self.stats["macro_too_deep"] += 1
                continue
            j = m.end(1)
            leaf = leaves.get(name)
            if leaf is not None:  # no arguments, no macro uses in its body: taken as it is
                body, glues = leaf
            elif (first := m[2]) is not None and (macro := unary.get(name)) is not None:
                j = m.end()
                if macro.fixed_size + macro.placeholders[1] * len(first) - (j - i) > budget[0]:
                    raise _TooLarge  # the size of the use, known before it is built (as below)
                body = macro.format.format(first)
            else:
                macro = macros[name]
                body = macro.body
                if macro.nargs:
                    groups = groups or _Groups(text)
                    args = []
                    arg = None
                    if macro.default is not None:
                        opt = groups.group(_skip_space(text, j), "[", "]")
                        if opt:
                            args.append(opt[0])
                            j = opt[1]
                        else:
                            args.append(macro.default)
                    while len(args) < macro.nargs and (arg := _argument(groups, j)) is not None:
                        if arg is _RUNAWAY:
                            break
                        args.append(arg[0])
                        j = arg[1]
                    if arg is _RUNAWAY:
                        # the argument runs to the end of the text, and so would every use after this one: TeX
                        # stops here too (a paper that does this does not compile)
                        self.stats["macro_runaway_argument"] += 1
                        break
                    if len(args) < macro.nargs:
                        self.stats["macro_missing_argument"] += 1
                        continue
                    # the arguments first, as TeX would meet them: a macro used inside its own argument is
                    # expanded
                    args = [self.expand(a, active, depth + 1) if "\\" in a else a for a in args]
                    # the size of the use is known before it is built: a body repeating #1 a million times is
                    # refused here, not after allocating the result
                    size = macro.fixed_size + sum(map(operator.mul, macro.placeholders[1:], map(len, args)))
                    if size - (j - i) > budget[0]:
                        raise _TooLarge
                    body = macro.format.format(*args)
            budget[1] -= 1
            if budget[1] < 0:
                raise _TooLarge
            # only the body's own macro uses are expanded: the arguments already are, and TeX never makes a
            # new control sequence out of a body and an argument (a leaf's body has none)
            if leaf is None and nested[name]:
                body = self.expand(body, active | {name}, depth + 1)
            # a control word swallows the spaces after it; its expansion must not glue onto a following letter
            if j < n and text[j].isalpha() and (glues if leaf is not None else _can_glue(body)):
                body += " "
            budget[0] -= len(body) - (j - i)
            if budget[0] < 0:
                raise _TooLarge
            out.append(text[pos:i])
            out.append(body)
            expanded += 1
            pos = j
        self.expanded += expanded
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)


_ENDS_WITH_CONTROL_WORD = re.compile(r"\\[A-Za-z]+\Z")


def _can_glue(body: str) -> bool:
    """Whether a letter right after ``body`` would glue onto it: it ends in a letter or a control word."""
    return bool(body) and (body[-1].isalpha() or _ENDS_WITH_CONTROL_WORD.search(body, max(0, len(body) - 64)) is not None)


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
        # the optional title is bounded: an unclosed `[` must not make every search rescan to the end of the text
        return re.compile(rf"\\(?:{names})\*?\s*(?:\[[^\]]{{0,4096}}\]\s*)?\{{")


@functools.lru_cache(maxsize=32)
def _earliest_of(patterns: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    """The patterns as one alternation, whose first match is the earliest match of any of them: one scan of the text
    instead of one per pattern. Patterns that cannot be joined (groups, whose numbers would shift; global flags)
    are kept apart."""
    try:
        if all(re.compile(p).groups == 0 for p in patterns):
            return (re.compile("|".join(f"(?:{p})" for p in patterns)),)
    except re.error:
        pass
    return tuple(re.compile(p) for p in patterns)


_ABSTRACT = (re.compile(r"\\begin\s*\{abstract\}"), re.compile(r"\\end\s*\{abstract\}"))


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
        a = _ABSTRACT[0].search(text, body_start, start)
        e = _ABSTRACT[1].search(text, a.end(), start) if a else None
        if e:
            abstract = text[a.start():e.end()] + "\n\n"
    end = len(text)
    markers = [_END_DOCUMENT.pattern]
    if rules.drop_appendix:
        markers += rules.appendix_markers
    if rules.drop_bibliography:
        markers += rules.bibliography_markers
    for pattern in _earliest_of(tuple(markers)):
        m = pattern.search(text, start)
        if m and m.start() < end:
            end = m.start()
    body = text[start:end]
    return (abstract + body) if body.strip() else None


_BLANK_RUNS = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")


def normalize_whitespace(text: str) -> str:
    # trailing spaces line by line: the regex `[ \t]+\n` retried a run of spaces without a newline from each of
    # its positions (300k spaces: minutes)
    text = "\n".join([line.rstrip(" \t") for line in text.split("\n")])
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"
