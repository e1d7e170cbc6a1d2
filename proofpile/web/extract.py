"""Math-aware extraction: HTML -> the page's main text, with math as ``$...$`` / ``$$...$$`` LaTeX.

resiliparse is the engine (``HTMLTree`` DOM + ``extract_plain_text(main_content=True)``), but it drops
``<script type="math/tex">`` and flattens MathML into a jumble of glyphs, so math is rewritten in the DOM first: each
math node is replaced by a text node holding its LaTeX with delimiters. Sources, in order:

- TeX in attributes: ``data-math`` (KaTeX HTML-only output), ``data-expr`` (katex.org), ``data-formula``
  (``<amp-mathml>``, ``<bento-mathml>``), ``<math data-code>``; outer ``\\(..\\)`` / ``\\[..\\]`` say inline/display;
- MathJax 2 input scripts: ``math/tex`` and ``text/tex`` (``; mode=display`` -> ``$$``), ``math/mml`` (converted as
  MathML), ``math/asciimath`` (converted, :mod:`proofpile.web.asciimath`); the rendered copies MathJax leaves
  beside them (``.MathJax``, ``.MathJax_Preview``, ``mjx-container``...) are dropped;
- KaTeX: the TeX ``annotation`` of ``.katex``; the duplicate ``.katex-html`` rendering goes with it;
- server-side MathJax (CHTML without its scripts): the ``aria-label`` of each ``.mjx-math``;
- MathML ``<math>`` (Wikipedia, MathJax 3's assistive MathML, Word's ``<!--[if mathML]>`` comments...): the TeX
  annotation, else ``alttext``, else the table-driven conversion of :mod:`proofpile.web.mathml`;
- Stack Exchange ``.math-container`` spans; Distill ``<d-math>``/``<dt-math>`` (TeX sources, never renderings: one
  in a hidden store its figures draw from is moved out of it); jsMath ``.math`` on jsMath pages;
- images whose alt text or URL carries LaTeX (codecogs, WordPress ``latex.php``, mimetex, ``tex.cgi``,
  Wikipedia's fallback images), the URL's escapes (``&space;``, ``%20``, ``\\dpi{..}``) decoded, a clean TeX alt
  preferred;
- in the text: ``\\(...\\)`` -> ``$...$``, ``\\[...\\]`` -> ``$$...$$``, ``$$...$$`` and ``\\begin{align}``-style
  environments kept intact, BBCode (``[tex]``, ``[itex]``, ``[math]``, ``[imath]``, ``[latex]``, ``##..##``) ->
  ``$..$``/``$$..$$``, AsciiMath back-ticks on AsciiMath pages converted. What counts as math there is decided by
  :mod:`proofpile.mathspans`, the one definition every consumer uses.

Two of OpenWebMath's bugs are avoided by construction: a lone ``$`` in prose is never a delimiter (so "costs $5 and
$10" stays text), and inserted or delimited math is fenced with private-use sentinels while the text is cleaned, so
``align`` environments (``\\\\[2pt]`` line breaks included) come out exactly as written. ``pre``/``code`` contents
are fenced the same way: a ``\\(`` in a regex stays a ``\\(``.

Around resiliparse: UI elements it keeps (form controls, share widgets, vote buttons) are skipped by CSS selector,
while the content of forms is kept (forum software wraps whole threads in a ``<form>``); bullet lists without links
are kept with resiliparse's bullets (its main-content pass drops a ``<ul>`` near ``<body>``, formulas and all), and
so are figures that hold math; a page without a heading starts with its title; a pathologically deep DOM is
extracted without the main-content pass (quadratic in depth), and after extraction whole lines that are UI
boilerplate ("Share", "Log in", cookie notices) are dropped. The selectors and line lists are data in
``filters/web/``.

Cost: one Hyperscan pass over the page's bytes says which kinds of math markup, skip selectors and raw-page tests
apply to it, so a page is queried only for the markup it holds (none at all on most pages); resiliparse's own
extraction is most of the rest (``proofpile/bench/web_extract.py``).

Measured on real pages by ``proofpile/bench/web_devset.py`` (the development set in ../shared/fixtures/html/dev).

Interface for the web stage: :func:`extract_math_text` (one page) and :class:`MathExtractor` (the datatrove step,
with a per-record time limit).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import unquote_plus, urlsplit

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.extractors.base import BaseExtractor, ExtractorSandbox
from datatrove.utils.logging import logger
from datatrove.utils.typeshelper import StatHints
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from proofpile import mathspans
from proofpile.config import read_list
from proofpile.hyperscan_db import Database
from proofpile.web import mathml
from proofpile.web.asciimath import to_tex as asciimath_tex

FILTERS_DIR = Path(__file__).resolve().parents[2] / "filters" / "web"
BOILERPLATE_LINES = FILTERS_DIR / "boilerplate-lines.txt"
BOILERPLATE_PATTERNS = FILTERS_DIR / "boilerplate-patterns.txt"
SKIP_ELEMENTS = FILTERS_DIR / "skip-elements.txt"

SOURCES = ("mathjax", "katex", "mathml", "math_container", "img_alt", "img_url", "text_delimited", "data_attr",
           "tex_element", "asciimath")
# Math and code are fenced in the DOM by private-use characters, so that nothing after extraction (delimiter
# normalisation, line filters) touches them: MATH_OPEN + one source char + "$..$" + MATH_CLOSE.
MATH_OPEN, MATH_CLOSE, CODE_OPEN, CODE_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_SOURCE_CHAR = {name: chr(0xE010 + i) for i, name in enumerate(SOURCES)}
_CHAR_SOURCE = {char: name for name, char in _SOURCE_CHAR.items()}
_SENTINELS = (MATH_OPEN, MATH_CLOSE, CODE_OPEN, CODE_CLOSE)
_FENCED = re.compile("\ue000([" + "".join(_SOURCE_CHAR.values()) + "])(.*?)\ue001|\ue002(.*?)\ue003", re.S)
_STRAY = re.compile("[\ue000-\ue003\ue010-\ue01f]")

# BBCode TeX of forum software, turned into $..$ / $$..$$ in the text pass: [tex] (display), [itex]/[imath] (inline),
# [math]/[latex] (display), and PhysicsForums' ##..## (inline; its body must look like TeX, see mathspans)
_BBCODE_TAG = re.compile(r"\[(tex|itex|math|imath|latex)\]", re.I)
_HASH_MATH = re.compile(r"(?<!#)##(?![\s#])([^#\n]{1,400}?)(?<![\s\\])##(?!#)")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_BBCODE_MAX = 5000  # characters between a tag and its closing tag
# AsciiMath between back-ticks (MathJax's asciimath2jax), on pages that load an AsciiMath renderer; \` is a back-tick
_BACKTICK = re.compile(r"(?<!\\)`(?=\S)([^`\n]{1,400}?)(?<![\s\\])`")
_BBCODE_INLINE = frozenset({"itex", "imath"})
_WIKI_DISPLAYSTYLE = re.compile(r"^\{\\(?:display|text)style\s*(.*)\}$", re.S)

# image URLs that render LaTeX; the formula is the query string (codecogs: the whole query, others: a parameter)
_LATEX_IMG_URL = re.compile(
    r"latex\.codecogs\.com|codecogs\.com/(?:gif|png|svg)\.latex|/latex\.php|mimetex|mathtex|/tex\.cgi|"
    r"chart\.apis\.google\.com/chart\?.*cht=tx|/latexrender/|/cgi-bin/mathtex|/tex2img|forkosh\.com",
    re.I,
)
_IMG_OPTIONS = re.compile(r"^(?:\s*\\(?:dpi\{\d+\}|bg_\w+|bg\{\w+\}|fg_\w+|inline|large|Large|LARGE|huge|small|"
                          r"tiny|normalsize|fn_\w+|fn\{\w+\}|displaystyle|textstyle)\s*)+")
# an image with one of these classes has its LaTeX as alt text (WordPress, Wikipedia, Quicklatex); the weak ones
# only when the alt text looks like TeX
_LATEX_IMG_CLASSES = ("latex", "tex", "mwe-math-fallback-image-inline", "mwe-math-fallback-image-display",
                      "ql-img-inline-formula", "ql-img-displayed-equation")
_LATEX_IMG_WEAK_CLASSES = ("math", "equation", "formula", "mathtex")

# MathJax's rendered output, dropped when the page keeps its TeX in <script type="math/tex"> (matched by exact
# class name in Python: lexbor matches classes case-insensitively in quirks mode, and arXiv marks its abstracts
# class="mathjax")
_MATHJAX_RENDERED_CLASSES = frozenset({"MathJax_Preview", "MathJax", "MathJax_Display", "MathJax_SVG",
                                       "MathJax_SVG_Display", "MathJax_CHTML", "MathJax_MathML", "mjx-chtml"})
# what the rewrites look at, one selector per kind of markup (class substrings cost lexbor less than class lists; the
# classes are checked exactly in Python). lexbor pays for every element and every selector of the list, so
# alternatives that share a test are grouped in one :is(), and a page is queried only for the kinds whose marker
# its raw bytes hold (see _PAGE_MARKERS): a page without math markup costs no math query at all
_MATH_PARTS = {
    "script": 'script:is([type^="math/" i], [type^="text/tex" i])',
    "math": "math",
    "mjx": "mjx-container",
    "dmath": "d-math, dt-math",
    "class": '[class]:is([class*="katex"], [class*="math-container"], [class*="MathJax"], [class*="mjx-chtml"], '
             '.math, .mjx-math)',
    # TeX held in attributes: KaTeX-HTML-only (data-math), katex.org (data-expr), AMP/Bento (data-formula)...
    "data": ":is([data-math], [data-expr], [data-formula])",
    # only images that may carry LaTeX: building a Python node for every image on a page costs more than this
    "img": 'img:is([src*="tex"], [src*="TeX"], [src*="cht=tx"], [class*="tex"], [class*="math"], [class*="equation"], '
           '[class*="formula"], [class*="ql-img"])',
    # bullet lists without links that resiliparse's main-content pass drops for being shallow (see _keep_list)
    # (three selectors: lexbor takes them faster than one :is() of the three)
    "ul": "body > ul:not(:has(a)), body > * > ul:not(:has(a)), body > * > * > ul:not(:has(a))",
}
# Each kind's marker in the raw page, a necessary condition for its selector to match anything (matched
# case-insensitively, like the selectors' tag names and their `i` flags; lexbor matches classes case-insensitively
# in quirks mode): literals, or a regex that stays inside one tag. Besides the selectors' kinds: the raw-page tests
# of extract_math_text (a heading, figures, MS Word's MathML comments, the renderers that give some markup its
# meaning, the page's own private-use characters). The skip selectors' markers join them (see _skip_elements).
_IN_TAG = r"""(?:[^>"']|"[^"]*"|'[^']*')*(?:"[^"]*|'[^']*)?"""  # inside a tag, up to the next match
_PAGE_MARKERS = {
    "script": (r"math/", r"text/tex"),
    "math": (r"<math",),
    "mjx": (r"<mjx-container",),
    "dmath": (r"<d-math", r"<dt-math"),
    "class": (r"""\bclass\s*=\s*(?:"[^"]*|'[^']*|[^\s"'>]*)(?:katex|math|mjx-chtml)""",),
    "data": (r"data-math", r"data-expr", r"data-formula"),
    "img": (r"<img\b" + _IN_TAG + r"(?:tex|math|equation|formula|ql-img|cht=tx)",),
    "ul": (r"<ul",),
    "h1": (r"<h1",),
    "figure": (r"<figure",),
    "word_mathml": (r"<!--\[if (?:gte )?mathML\]>",),
    # the renderers whose markup is only read when the page loads them: AsciiMath back-ticks, jsMath's .math
    "asciimath": (r"asciimath",),
    "jsmath": (r"jsmath",),
    # the private-use characters of our fences (U+E000-E003, U+E010-E01F in UTF-8): a page's own must not fake one
    "sentinel": (r"\xee\x80[\x80-\x83\x90-\x9f]",),
}


class _MarkerScan:
    """One Hyperscan pass over a page's UTF-8 bytes: the set of marker kinds it holds (each pattern reported once;
    ~1 GB/s on the benchmark's pages for all of them, about what one ``str.__contains__`` costs on a non-ASCII
    page)."""

    def __init__(self, markers: dict[str, tuple[str, ...]]):
        import hyperscan

        self.kinds = [kind for kind, patterns in markers.items() for _ in patterns]
        expressions = [p.encode() for patterns in markers.values() for p in patterns]  # (UTF-8, matched bytewise)
        self.db = Database(expressions, hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH)

    def kinds_in(self, page: bytes) -> set[str]:
        found: set[int] = set()
        self.db.scan(page, _collect, found)
        return {self.kinds[i] for i in found}


def _collect(pattern_id, start, end, flags, found):
    found.add(pattern_id)


@functools.lru_cache(maxsize=8)
def _marker_scan(skip_elements: str = str(SKIP_ELEMENTS)) -> _MarkerScan:
    """The scan of ``_PAGE_MARKERS`` and of the markers of the skip selectors of ``skip_elements`` (kinds
    ``skip <n>``, n their index in ``_skip_elements``)."""
    skip = {f"skip {i}": tuple(map(re.escape, markers))
            for i, (_, markers) in enumerate(_skip_elements(skip_elements)) if markers}
    return _MarkerScan({**_PAGE_MARKERS, **skip})


@functools.lru_cache(maxsize=256)
def _selector(kinds: frozenset[str]) -> str:
    return ", ".join(part for kind, part in _MATH_PARTS.items() if kind in kinds)


# MS Word's "save as web page": MathML (with an mml: prefix) only inside <!--[if mathML]>...<![endif]-->
_CONDITIONAL_MATHML = re.compile(r"<!--\[if (?:gte )?mathML\]>(.*?)<!\[endif\]-->", re.S | re.I)
_MML_PREFIX = re.compile(r"<(/?)mml:")
# attributes that hold a formula's TeX, in order of preference (math[data-code]: some converters' MathML)
_TEX_ATTRIBUTES = ("data-math", "data-expr", "data-formula", "data-code")
_TEX_ATTRIBUTE_SET = frozenset(_TEX_ATTRIBUTES)
# elements whose text is TeX: Distill's d-math/dt-math, jsMath's span.math/div.math
_TEX_ELEMENTS = frozenset({"d-math", "dt-math"})
_JSMATH_CLASSES = frozenset({"math"})
# delimiters of math in text; code that holds one is fenced (see extract_math_text)
_TEXT_DELIMITERS = ("\\(", "\\[", "$", "\\begin{", "[", "##")
# wrappers that hold one formula (often hidden, or with a second rendering): replaced whole by the formula
_MATH_WRAPPER_CLASSES = _MATHJAX_RENDERED_CLASSES | {"mwe-math-element", "katex-display", "katex",
                                                     "MJX_Assistive_MathML", "mwe-math-mathml-inline",
                                                     "mwe-math-mathml-display"}
_OUTER_WRAPPER_CLASSES = frozenset({"mwe-math-element", "katex-display", "MathJax_Display", "MathJax_SVG_Display"})
_WRAPPER_LEVELS = 4
# resiliparse's main-content pass drops a <ul> fewer elements than this below <body> (see _keep_list)
_MAIN_CONTENT_LIST_DEPTH = 4
# resiliparse's main-content pass is quadratic in the DOM's depth (0.05 s at 2,000, 2 s at 10,000, minutes at
# 100,000): a page with this many opening tags in a row is extracted without it
_DEEP_DOM_TAGS = 2000
_DEEP_DOM = re.compile(rb"(?:<[A-Za-z][^<>]*>[^<]*){%d}" % _DEEP_DOM_TAGS)
# TeX that typesets nothing: Stack Exchange wraps every post in $\\begingroup$ ... $\\endgroup$ to scope macros
_NOT_MATH = frozenset({"\\begingroup", "\\endgroup", "\\relax"})
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")




_LINE_PUNCTUATION = " \t|•·»«<>:;,.!?-–—_*#()[]{}\"'↑↓←→"


class Boilerplate:
    """Drops whole lines that are UI boilerplate: exact short labels, or short lines matching a pattern.

    Patterns are matched at the start of a line, case-insensitively. Patterns written ``.*x`` match anywhere in a
    line: each ``x`` is searched once in the lowercased text (write them in lowercase). A text is not tested line
    by line in Python: one Hyperscan pass over it finds the lines that may be a label or start with a pattern, and
    which anywhere patterns may match (a superset: the patterns compiled in its prefilter mode, caseless, with
    Unicode classes like ``re``'s); only those lines and patterns are tested, by ``re``.
    """

    MAX_PATTERN_LINE = 200

    def __init__(self, lines_file: str | Path = BOILERPLATE_LINES, patterns_file: str | Path = BOILERPLATE_PATTERNS):
        self.lines = frozenset(line.lower().strip(_LINE_PUNCTUATION) for line in read_list(lines_file))
        self.max_label = max((len(line) for line in self.lines), default=0) + 8  # room for punctuation around it
        patterns = read_list(patterns_file)
        self.start_patterns = [p for p in patterns if not p.startswith(".*")]
        self.at_start = re.compile(r"\s*(?:" + "|".join(f"(?:{p})" for p in self.start_patterns) + ")", re.I) \
            if self.start_patterns else None
        self.anywhere = [re.compile(p[2:]) for p in patterns if p.startswith(".*")]
        # (whether an empty line is dropped, known once: a third of all lines are empty)
        self.drops_empty = "" in self.lines or (self.at_start is not None and self.at_start.match("") is not None)
        self._db = self._database()

    def _database(self) -> Database:
        """Labels, start patterns and anywhere patterns (ids from ``_anywhere_ids`` on) in Hyperscan's prefilter
        mode; a pattern it cannot take fails here, when the extractor is built."""
        import hyperscan

        punctuation = "[" + "".join("\\" + c if c in "\\]-^[" else c for c in _LINE_PUNCTUATION) + "]*"
        labels = [f"^{punctuation}(?:{'|'.join(map(re.escape, sorted(self.lines)))}){punctuation}$"] \
            if self.lines - {""} else []
        self._anywhere_ids = len(labels) + len(self.start_patterns)  # ids from here on: the anywhere patterns
        expressions = [e.encode() for e in labels + [rf"^[^\S\n]*(?:{p})" for p in self.start_patterns]
                       + [p.pattern for p in self.anywhere]]
        flags = hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_MULTILINE | hyperscan.HS_FLAG_UTF8 | \
            hyperscan.HS_FLAG_UCP | hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY
        db = Database(expressions, flags)
        try:
            db.compiled()
        except hyperscan.error as e:
            raise ValueError(f"boilerplate patterns: one of them is not a pattern Hyperscan takes ({e})") from None
        return db

    def is_boilerplate(self, line: str) -> bool:
        n = len(line)
        if n > self.MAX_PATTERN_LINE:
            return False
        if n <= self.max_label and line.lower().strip(_LINE_PUNCTUATION) in self.lines:
            return True
        if self.at_start is not None and self.at_start.match(line) is not None:
            return True
        low = line.lower()
        return any(p.search(low) for p in self.anywhere)

    def _candidates(self, text: str) -> tuple[list[int], list[re.Pattern]]:
        """Numbers of the lines that may be labels or start with a pattern, ascending (a line's own match lies
        within it, so it ends on it), and the anywhere patterns that may match."""
        data = text.encode("utf-8", "replace")
        matches: list[tuple[int, int]] = []
        self._db.scan(data, _append_match, matches)
        first = self._anywhere_ids
        anywhere = [self.anywhere[k - first] for k in sorted({k for k, _ in matches if k >= first})]
        lines, line, pos = [], 0, 0
        for end in sorted({end for k, end in matches if k < first}):
            line += data.count(b"\n", pos, end)
            pos = end
            if not lines or lines[-1] != line:
                lines.append(line)
        return lines, anywhere

    def clean(self, text: str, keep_first: bool = False, keep_last: bool = False) -> str:
        """``text`` without its boilerplate lines; ``keep_first``/``keep_last`` spare a partial first/last line."""
        lines = text.split("\n")
        labels, max_label, max_line = self.lines, self.max_label, self.MAX_PATTERN_LINE
        at_start = self.at_start.match if self.at_start is not None else lambda line: None
        candidates, anywhere = (range(len(lines)), self.anywhere) if self.drops_empty else self._candidates(text)
        drop = {
            i for i in candidates
            if (lines[i] or self.drops_empty) and len(lines[i]) <= max_line and (
                (len(lines[i]) <= max_label and lines[i].lower().strip(_LINE_PUNCTUATION) in labels)
                or at_start(lines[i]) is not None
            )
        }
        if anywhere:
            low = text.lower()
            for pattern in anywhere:
                for m in pattern.finditer(low):
                    i = low.count("\n", 0, m.start())
                    if len(lines[i]) <= self.MAX_PATTERN_LINE:
                        drop.add(i)
        if keep_first:
            drop.discard(0)
        if keep_last:
            drop.discard(len(lines) - 1)
        if not drop:
            return text
        return "\n".join(line for i, line in enumerate(lines) if i not in drop)


def _append_match(pattern_id, start, end, flags, matches):
    matches.append((pattern_id, end))


@functools.lru_cache(maxsize=8)
def _boilerplate(lines_file: str, patterns_file: str) -> Boilerplate:
    return Boilerplate(lines_file, patterns_file)


# one attribute test ([class*="share"], [role="button"]) or one class (.x): grouped by attribute, see _skip_elements
_ONE_ATTRIBUTE = re.compile(r'\[(?P<attr>[\w-]+)(?:[*^$~|]?=(?:"(?P<quoted>[^"]*)"|(?P<bare>[\w-]+))(?:\s+[iIsS])?)?\]'
                            r'|\.(?P<cls>[\w-]+)')
_TAG = re.compile(r"[A-Za-z][\w-]*(?![\w-])")


@functools.lru_cache(maxsize=8)
def _skip_elements(path: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The selectors of ``path``, those that test one attribute grouped as ``[attr]:is(...)`` (resiliparse matches
    every element against every selector, and an element without the attribute fails the group at once: same
    elements, a quarter of the cost), each with the markers one of which a page must hold for it to match anything
    (its attribute values, class names, ``<tag``; none: it is always applied). A page is extracted with only the
    selectors whose markers it holds (see ``_PAGE_MARKERS``)."""
    groups: dict[str, list[str]] = {}
    for selector in read_list(path):
        m = _ONE_ATTRIBUTE.fullmatch(selector)
        key = (m.group("attr") or "class") if m else selector
        groups.setdefault(key, []).append(selector)
    return tuple(
        (f"[{key}]:is({', '.join(selectors)})" if len(selectors) > 1 else selectors[0], _skip_markers(selectors))
        for key, selectors in groups.items()
    )


def _skip_markers(selectors: list[str]) -> tuple[str, ...]:
    markers = []
    for selector in selectors:
        m, tag = _ONE_ATTRIBUTE.fullmatch(selector), _TAG.match(selector)
        marker = (m.group("quoted") or m.group("bare") or m.group("cls") or m.group("attr")) if m else \
            f"<{tag.group()}" if tag else None
        if not marker:  # (an empty value) nothing every matching page must hold
            return ()
        markers.append(marker)
    return tuple(dict.fromkeys(markers))


def _looks_deep(page: bytes) -> bool:
    """Whether the page (its UTF-8 bytes) nests ``_DEEP_DOM_TAGS`` opening tags without a closing tag between them:
    the shape of a pathologically deep DOM. The run must lie in the longest stretch without '</' (a heuristic: a deep
    DOM that interleaves closing tags is left to the timeout), found first: that costs less than counting the page's
    '<'."""
    start, end = _longest_stretch(page)
    return page.count(b"<", start, end) >= _DEEP_DOM_TAGS and _DEEP_DOM.search(page, start, end) is not None


# _DEEP_DOM needs at least this many bytes ("<a>" per tag)
_DEEP_DOM_MIN_CHARS = 3 * _DEEP_DOM_TAGS


def _longest_stretch(page: bytes) -> tuple[int, int]:
    """The span of ``max(page.split(b"</"), key=len)`` if it is ``_DEEP_DOM_MIN_CHARS`` long, else a shorter one,
    without splitting the page. A stretch that long without "</" holds a whole aligned block of half its length, so
    only blocks with no "</" are looked at, and the stretch around each."""
    block = _DEEP_DOM_MIN_CHARS // 2
    longest, k, n = (0, 0), 0, len(page)
    while k < n:
        if page.find(b"</", k, k + block + 1) != -1:
            k += block
            continue
        start = page.rfind(b"</", 0, k + 1)
        start = 0 if start == -1 else start + 2
        end = page.find(b"</", k)
        end = n if end == -1 else end
        if end - start > longest[1] - longest[0]:
            longest = (start, end)
        k = end + 2 + (-(end + 2) % block)  # the next aligned block past this stretch
    return longest


def _has(html: str, *markers: str) -> bool:
    return any(map(html.__contains__, markers))  # (a generator costs a frame per marker)


def _uncomment_mathml(m: re.Match) -> str:
    return _MML_PREFIX.sub(r"<\1", m.group(1))


def _has_delimiters(text: str) -> bool:
    """Whether ``text`` may hold math the text pass rewrites (``\\(..\\)``, ``\\[..\\]``, BBCode, ``##..##``), by
    one-character searches first (several times faster on non-ASCII). ``$..$`` and ``$$..$$`` stay as written."""
    return ("\\" in text and _has(text, "\\(", "\\[", "\\begin{")) or ("[/" in text and _BBCODE_TAG.search(text) is not None) \
        or ("##" in text)


def _parse(html: str, skip_elements: str = str(SKIP_ELEMENTS)) -> tuple[HTMLTree, str, set[str]]:
    """The page's DOM, the page as parsed, and the marker kinds its raw bytes hold (``_PAGE_MARKERS``, ``skip <n>``
    of the skip selectors, and ``deep``: see ``_looks_deep``). The bytes are scanned after parsing (the parser leaves
    the page's UTF-8 cached in the str, so encoding it again is a copy); a page that the raw-text rewrites change (its
    own private-use characters, MS Word's MathML comments: rare) is parsed again."""
    try:
        tree = HTMLTree.parse(html)
    except UnicodeEncodeError:  # lone surrogates (a str decoded with surrogateescape): lexbor takes UTF-8 only
        html = html.encode("utf-8", "replace").decode("utf-8")
        tree = HTMLTree.parse(html)
    page = html.encode("utf-8")
    kinds = _marker_scan(skip_elements).kinds_in(page)
    if "sentinel" in kinds or "word_mathml" in kinds:
        if "sentinel" in kinds:  # the page's own private-use characters must not fake a fence
            html = _STRAY.sub("", html)
        if "word_mathml" in kinds:
            html = _CONDITIONAL_MATHML.sub(_uncomment_mathml, html)
        tree = HTMLTree.parse(html)
        page = html.encode("utf-8")
        kinds = _marker_scan(skip_elements).kinds_in(page)
    if _looks_deep(page):
        kinds.add("deep")
    return tree, html, kinds


def empty_counts() -> dict:
    return {"math_inline": 0, "math_display": 0, "math_sources": {}}


def extract_math_text(
    html: str,
    *,
    main_content: bool = True,
    boilerplate_lines: str | Path = BOILERPLATE_LINES,
    boilerplate_patterns: str | Path = BOILERPLATE_PATTERNS,
    skip_elements: str | Path = SKIP_ELEMENTS,
) -> tuple[str, dict]:
    """The page's main text with math as ``$...$`` / ``$$...$$`` LaTeX, and its math counts.

    Returns ``(text, {"math_inline": n, "math_display": n, "math_sources": {source: n}})``; the counts are of the
    math that survives into ``text`` (``source`` is one of ``SOURCES``). Never raises on a ``str``: a page with no
    body or no text gives ``("", counts)``.
    """
    counts = empty_counts()
    if not isinstance(html, str) or not html or html.isspace():
        return "", counts
    tree, html, kinds = _parse(html, str(skip_elements))
    root = tree.document
    if root is None or tree.body is None:
        return "", counts

    if _rewrite_math(tree, root, kinds) and "figure" in kinds:
        _keep_math_figures(tree, root)
    options = dict(
        main_content=main_content and "deep" not in kinds,
        alt_texts=False,
        links=False,
        form_fields=False,
        noscript=False,
        comments=True,
        skip_elements=[selector for i, (selector, markers) in enumerate(_skip_elements(str(skip_elements)))
                       if not markers or f"skip {i}" in kinds],
    )
    text = extract_plain_text(tree, **options)
    # Code must reach the text verbatim, but normalising \( \) would rewrite a regex in a <pre>: when the text has
    # such delimiters and some code holds one, fence the code and extract again (rare: scanning the raw page for
    # delimiters up front would cost every page more than this costs the few)
    delimited = _has_delimiters(text)
    if delimited and _fence_code(tree, root):
        text = extract_plain_text(tree, **options)
    boilerplate = _boilerplate(str(boilerplate_lines), str(boilerplate_patterns))
    backticks = "asciimath" in kinds and "`" in text and _BACKTICK.search(text) is not None
    text = _unfence(text, counts, delimited, boilerplate, backticks)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if not text:
        return "", empty_counts()
    if "h1" not in kinds:  # a page without a heading: its title is its heading
        title = " ".join((tree.title or "").split())
        if title and not text.startswith(title) and not boilerplate.is_boilerplate(title):
            text = f"{title}\n\n{text}"
    return text, counts


# -- DOM rewrites ---------------------------------------------------------------------------------------------


def _math_node(tree, tex: str, display: bool, source: str):
    tex = tex.strip() if tex.isascii() else _STRAY.sub("", tex).strip()
    if not tex or tex in _NOT_MATH:
        return tree.create_text_node("")
    delim = "$$" if display else "$"
    return tree.create_text_node(f"{MATH_OPEN}{_SOURCE_CHAR[source]}{delim}{tex}{delim}{MATH_CLOSE}")


def _rewrite_math(tree, root, kinds: set[str]) -> bool:
    """Every DOM rewrite from one CSS query (of the markup ``kinds`` the raw page holds; none when it holds none),
    grouped by kind and applied in an order where wrappers go before what they wrap. Returns whether the page had
    math markup."""
    selector = _selector(frozenset(kinds.intersection(_MATH_PARTS)))
    if not selector:
        return False
    jsmath = "jsmath" in kinds
    scripts, katex, maths, rendered, containers, images, lists = [], [], [], [], [], [], []
    attributed, tex_elements, labelled = [], [], []
    for node in root.query_selector_all(selector).values():
        tag = node.tag
        if tag == "script":
            scripts.append(node)
        elif tag == "math":
            (attributed if node.getattr("data-code") else maths).append(node)
        elif tag == "img":
            images.append(node)
        elif tag == "ul":
            lists.append(node)
        elif tag in _TEX_ELEMENTS:
            tex_elements.append(node)
        elif tag == "mjx-container":
            rendered.append(node)
        else:
            classes = _classes(node)
            if _TEX_ATTRIBUTE_SET.intersection(node.attrs):
                attributed.append(node)
            elif "katex" in classes:
                katex.append(node)
            elif "math-container" in classes:
                containers.append(node)
            elif "mjx-math" in classes and node.getattr("aria-label"):
                labelled.append(node)
            elif classes & _MATHJAX_RENDERED_CLASSES:
                rendered.append(node)
            elif jsmath and classes & _JSMATH_CLASSES:
                tex_elements.append(node)
    for node in attributed:  # before KaTeX: the attribute holds the TeX of the rendering inside
        if root.contains(node):
            _rewrite_tex_attribute(tree, node)
    tex_scripts = 0
    for script in scripts:
        tex_scripts += _rewrite_script(tree, script)
    for node in katex:
        if root.contains(node):
            _rewrite_katex(tree, node)
    if tex_scripts:  # MathJax drew these from the scripts (rewritten above): its MathML copies must not count twice
        _remove(rendered)
    else:  # server-side MathJax: the TeX is only in each rendering's aria-label
        for node in labelled:
            _rewrite_labelled(tree, root, node)
    for math in maths:
        _rewrite_mathml(tree, root, math)
    if not tex_scripts:  # the MathML inside these replaced them above; what is left is drawing
        _remove(rendered)
    for span in containers:
        _rewrite_math_container(tree, span)
    for node in tex_elements:
        if root.contains(node):
            _rewrite_tex_element(tree, node)
    for img in images:
        if root.contains(img):  # not gone with a rewritten formula (Wikipedia's fallback image of each <math>)
            _rewrite_latex_image(tree, img)
    for node in lists:
        _keep_list(tree, node)
    return bool(scripts or katex or maths or containers or attributed or tex_elements or labelled or images)


def _keep_math_figures(tree, root) -> None:
    """resiliparse's main-content pass drops ``<figure>`` and ``<figcaption>`` blocks, and with them the equations
    that Distill-like pages lay out and explain in figures: one that holds math becomes a plain block."""
    for figure in root.query_selector_all("figure, figcaption").values():
        if figure.parent is not None and MATH_CLOSE in (figure.text or ""):
            block = tree.create_element("div")
            block.append(*figure.child_nodes.values())
            figure.replace_with(block)


def _keep_list(tree, ul) -> None:
    """resiliparse's main-content pass drops a <ul> less than ``_MAIN_CONTENT_LIST_DEPTH`` elements below <body>
    (and one that is mostly links), and with it theorem lists, case analyses and formulas in bullets. A shallow
    list without links (the only ones queried) is content, not navigation: it is moved down into that many plain
    <div>s, where resiliparse keeps it with its own bullets, like every deeper list."""
    depth, parent = 1, ul.parent
    while parent is not None and parent.type == 1 and parent.tag != "body":
        depth, parent = depth + 1, parent.parent
    if parent is None or depth >= _MAIN_CONTENT_LIST_DEPTH:
        return
    outer = inner = tree.create_element("div")
    for _ in range(_MAIN_CONTENT_LIST_DEPTH - depth - 1):
        inner = inner.append_child(tree.create_element("div"))
    ul.replace_with(outer)
    inner.append_child(ul)


def _script_kind(script) -> tuple[str, bool]:
    kind = (script.getattr("type") or "").lower()
    return kind.split(";", 1)[0].strip(), "mode=display" in kind.replace(" ", "")


def _rewrite_script(tree, script) -> int:
    """MathJax 2 input scripts: TeX (``math/tex``, ``text/tex``), MathML (``math/mml``), AsciiMath. Returns 1 for a
    formula's source (its rendered copies are then dropped), else 0."""
    kind, display = _script_kind(script)
    text = script.text or ""
    if kind in ("math/tex", "text/tex"):
        script.replace_with(_math_node(tree, text, display, "mathjax"))
        return 1
    if kind == "math/mml":
        parsed = HTMLTree.parse(text).body
        math = parsed.query_selector("math") if parsed is not None else None
        if math is None:
            return 0
        tex = _mathml_tex(math)
        display = display or (math.getattr("display") or "").lower() == "block"
        script.replace_with(_math_node(tree, tex, display, "mathml"))
        return 1
    if kind == "math/asciimath":
        script.replace_with(_math_node(tree, asciimath_tex(text), display, "asciimath"))
        return 1
    return 0


def _strip_delimiters(tex: str) -> tuple[str, bool | None]:
    """``tex`` without one pair of outer delimiters, and whether they said display (None: there were none)."""
    tex = tex.strip()
    for open_, close, display in (("$$", "$$", True), ("\\[", "\\]", True), ("\\(", "\\)", False),
                                  ("$", "$", False)):
        if tex.startswith(open_) and tex.endswith(close) and len(tex) >= len(open_) + len(close):
            return tex[len(open_): len(tex) - len(close)].strip(), display
    return tex, None


def _rewrite_tex_attribute(tree, node) -> None:
    tex = next((v for v in (node.getattr(a) for a in _TEX_ATTRIBUTES) if v), "")
    tex, delimited_display = _strip_delimiters(tex)
    classes = " ".join(_classes(node)).lower()
    display = delimited_display if delimited_display is not None else (
        "display" in classes or "block" in classes or node.getattr("display") == "block"
        or (node.tag in ("amp-mathml", "bento-mathml") and node.getattr("inline") is None))
    node.replace_with(_math_node(tree, tex, display, "data_attr"))


def _rewrite_labelled(tree, root, node) -> None:
    """Server-side MathJax (mathjax-node-page CHTML): the TeX survives only as the ``aria-label`` of ``.mjx-math``;
    the whole rendering (its MathJax_CHTML wrapper) is replaced."""
    if not root.contains(node):
        return
    wrapper, parent = node, node.parent
    for _ in range(_WRAPPER_LEVELS):
        if parent is None or parent.type != 1:
            break
        classes = _classes(parent)
        if not (classes & _MATHJAX_RENDERED_CLASSES or "mjx-chtml" in classes):
            break
        wrapper, parent = parent, parent.parent
    display = "MJXc-display" in _classes(wrapper) or "MathJax_Display" in _classes(wrapper) or \
        (parent is not None and parent.type == 1 and "MJXc-display" in _classes(parent))
    wrapper.replace_with(_math_node(tree, node.getattr("aria-label"), display, "mathjax"))


def _rewrite_tex_element(tree, node) -> None:
    """Elements whose text is TeX (Distill ``d-math``, jsMath ``span.math``/``div.math``); text that already carries
    delimiters is left to the text pass."""
    text = node.text or ""
    if not text.strip() or (node.tag not in _TEX_ELEMENTS and (len(text) > 5000 or node.query_selector("p"))):
        return
    tex, delimited_display = _strip_delimiters(text)
    display = delimited_display if delimited_display is not None else (
        node.getattr("block") is not None or node.tag == "div")
    math = _math_node(tree, tex, display, "tex_element")
    hidden = _outermost_hidden(node) if node.tag in _TEX_ELEMENTS else None
    if hidden is None:
        node.replace_with(math)
    else:  # Distill's formula store for its figures (#math-cache): the source, never a second rendering
        node.remove()
        hidden.before(math, tree.create_text_node(" "))  # the store's own whitespace stays hidden with it


def _hidden(node) -> bool:
    """Whether ``node`` is hidden the ways resiliparse's main-content pass drops (``hidden``, ``aria-hidden``, an
    inline ``display: none``, a class ``hidden``); a few more than it drops is harmless where this is used."""
    if node.hasattr("hidden") or node.getattr("aria-hidden") == "true":
        return True
    style = node.getattr("style")
    if style and ("none" in style or "hidden" in style):
        style = style.replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
    name = node.class_name
    return bool(name) and "hidden" in name and any(c.endswith("hidden") for c in name.split())


def _outermost_hidden(node):
    """The outermost hidden element around ``node``, or None."""
    hidden, parent = None, node.parent
    while parent is not None and parent.type == 1:
        if _hidden(parent):
            hidden = parent
        parent = parent.parent
    return hidden


_TEX_ENCODINGS = frozenset({"application/x-tex", "tex"})


def _tex_annotation(math) -> str | None:
    """The text of the first TeX ``annotation`` in ``math`` (by tag and a Python test: a CSS query costs a selector
    parse, ~10 us, on every formula)."""
    for annotation in math.get_elements_by_tag_name("annotation"):
        if (annotation.getattr("encoding") or "").lower() in _TEX_ENCODINGS:
            text = annotation.text
            return text if text and text.strip() else None
    return None


def _strip_displaystyle(tex: str) -> str:
    """Wikipedia wraps every formula as ``{\\displaystyle ...}``; the wrapper is rendering, not content."""
    tex = tex.strip()
    m = _WIKI_DISPLAYSTYLE.match(tex)
    if m and _balanced(m.group(1)):
        return m.group(1).strip()
    return tex


def _balanced(tex: str) -> bool:
    depth = 0
    for i, char in enumerate(tex):
        if char == "{" and (i == 0 or tex[i - 1] != "\\"):
            depth += 1
        elif char == "}" and (i == 0 or tex[i - 1] != "\\"):
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _remove(nodes) -> None:
    # detach, never decompose(): nodes still listed for a later rewrite may live inside, and decompose() frees them
    for node in nodes:
        if node.parent is not None:
            node.remove()


def _rewrite_katex(tree, katex) -> None:
    tex = _tex_annotation(katex)
    if tex is None:
        return
    parent = katex.parent
    display = parent is not None and parent.type == 1 and "katex-display" in _classes(parent)
    (parent if display else katex).replace_with(_math_node(tree, tex, display, "katex"))


def _classes(node) -> set[str]:
    name = node.class_name
    return set(name.split()) if name else set()


def _math_wrapper(math):
    """The outermost element around ``math`` that only wraps this formula (and its renderings), or None."""
    wrapper, node = None, math.parent
    for _ in range(_WRAPPER_LEVELS):
        if node is None or node.type != 1:
            break
        classes = _classes(node)
        if node.tag == "mjx-container" or classes & _MATH_WRAPPER_CLASSES:
            wrapper = node
            if classes & _OUTER_WRAPPER_CLASSES:
                break
        node = node.parent
    return wrapper


def _mathml_tex(math) -> str:
    """A ``<math>`` element's TeX: its TeX annotation, else ``alttext``, else converted from its MathML."""
    tex = _tex_annotation(math)
    if tex is None:
        tex = math.getattr("alttext")
    if tex is None or not tex.strip():
        tex = mathml.convert(math)
    return tex


def _rewrite_mathml(tree, root, math) -> None:
    if math.parent is None or not root.contains(math):  # went with an enclosing wrapper already (KaTeX)
        return
    tex = _mathml_tex(math)
    display = (math.getattr("display") or "").lower() == "block" or \
        (math.getattr("mode") or "").lower() == "display"
    wrapper = _math_wrapper(math)
    source = "mathml"
    if wrapper is not None:
        classes = " ".join(_classes(wrapper))
        display = display or "display" in classes.lower()
        source = "katex" if "katex" in classes else "mathml"
    (wrapper or math).replace_with(_math_node(tree, _strip_displaystyle(tex), display, source))


def _rewrite_math_container(tree, span) -> None:
    tex, display = _strip_delimiters(span.text or "")
    span.replace_with(_math_node(tree, tex, bool(display), "math_container"))


def _rewrite_latex_image(tree, img) -> None:
    src = img.getattr("src") or img.getattr("data-src") or ""
    classes = (img.class_name or "").lower().split()
    alt = (img.getattr("alt") or "").strip()
    latex_url = bool(src) and _LATEX_IMG_URL.search(src) is not None
    if alt and any(c in _LATEX_IMG_CLASSES for c in classes):
        tex, source = alt, "img_alt"
    elif latex_url:
        # the alt (or title) text when it is clean TeX (written by the author), else the URL's TeX
        clean = next((t for t in (alt, (img.getattr("title") or "").strip()) if _clean_tex(t)), None)
        tex, source = clean or _tex_from_url(src) or alt, "img_url"
    elif alt and any(c in _LATEX_IMG_WEAK_CLASSES for c in classes) and mathspans.is_math_body(alt, "$"):
        tex, source = alt, "img_alt"
    else:
        return
    tex = _strip_displaystyle(_IMG_OPTIONS.sub("", tex.strip()).strip())
    if tex.startswith("$$") and tex.endswith("$$") and len(tex) > 4:
        tex, display = tex[2:-2], True
    elif tex.startswith("$") and tex.endswith("$") and len(tex) > 2:
        tex, display = tex[1:-1], False
    else:
        display = "display" in " ".join(classes) or alt.startswith("\\displaystyle")
    if tex:
        img.replace_with(_math_node(tree, tex, display, source))


# what a LaTeX image's alt/title is when it is not clean TeX: a URL, a file name, URL escapes, a caption in words
_NOT_CLEAN_TEX = re.compile(r"&space;|%[0-9A-Fa-f]{2}|https?:|\.(?:gif|png|svg|jpe?g)\b|^(?:[A-Za-z]+\s+){3}", re.I)
# URL escapes of LaTeX image services (codecogs writes spaces as &space; and + as &plus;)
_URL_ESCAPES = {"&space;": " ", "&plus;": "+", "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&nbsp;": " "}
_URL_ESCAPE = re.compile("|".join(map(re.escape, _URL_ESCAPES)))


def _clean_tex(text: str) -> bool:
    return bool(text) and _NOT_CLEAN_TEX.search(text) is None and mathspans.is_math_body(text, "$")


def _tex_from_url(src: str) -> str:
    """The formula of a LaTeX image URL: a ``latex=``/``tex=``/``chl=`` parameter, else the whole query (codecogs,
    mimetex), its escapes decoded (``%20``, ``&space;``, ``&plus;``; a ``+`` is a plus except in a parameter
    value, where forms write spaces as ``+``) and its rendering options (``\\dpi{..}``, ``\\bg_white``) dropped."""
    query = urlsplit(src).query
    if not query and "latex?" in src:
        query = src.rsplit("latex?", 1)[-1]
    tex = None
    for key in ("latex=", "tex=", "chl=", "formula="):
        for part in query.split("&"):
            if part.startswith(key):
                tex = unquote_plus(part[len(key):])
                break
        if tex is not None:
            break
    if tex is None:
        tex = unquote_plus(query.replace("+", "%2B"))
    return _IMG_OPTIONS.sub("", _URL_ESCAPE.sub(lambda m: _URL_ESCAPES[m.group()], tex)).strip()


def _fence_code(tree, root) -> bool:
    """Fence every pre/code element whose text holds a math delimiter; True if there was one."""
    fenced = False
    for code in root.query_selector_all("pre, code").values():
        if code.tag == "code" and code.parent is not None and code.closest("pre") is not None:
            continue  # closest() includes the node itself: this skips only code inside a pre
        text = code.text
        if text and _has_delimiters(text):
            # one text node, not sentinel nodes around the old children: main-content extraction drops text
            # nodes that hold no word character
            code.replace_children(tree.create_text_node(CODE_OPEN + text + CODE_CLOSE))
            fenced = True
    return fenced


# -- text pass ------------------------------------------------------------------------------------------------


def _unfence(text: str, counts: dict, delimited: bool, boilerplate: Boilerplate, backticks: bool = False) -> str:
    """Restore fenced math and code verbatim; in the prose between them drop boilerplate lines and normalise
    delimited math (when ``delimited``: the text has a delimiter); count the math."""
    if MATH_CLOSE not in text and CODE_OPEN not in text:  # (not MATH_OPEN: see _PAGE_SENTINELS)
        return _prose(text, counts, delimited, boilerplate, True, True, backticks)
    out = []
    pos = 0
    for m in _FENCED.finditer(text):
        out.append(_prose(text[pos: m.start()], counts, delimited, boilerplate, pos == 0, False, backticks))
        if m.group(1) is not None:
            tex = m.group(2)
            out.append(tex)
            _count(counts, _CHAR_SOURCE.get(m.group(1), "mathml"), tex.startswith("$$"))
        else:  # code, verbatim (math fenced inside it, e.g. a MathJax script in a <pre>, is just its text)
            code = m.group(3)
            out.append(_STRAY.sub("", code) if MATH_OPEN in code else code)
        pos = m.end()
    out.append(_prose(text[pos:], counts, delimited, boilerplate, pos == 0, True, backticks))
    return "".join(out)


def _count(counts: dict, source: str, display: bool) -> None:
    counts["math_display" if display else "math_inline"] += 1
    counts["math_sources"][source] = counts["math_sources"].get(source, 0) + 1


def _prose(text: str, counts: dict, delimited: bool, boilerplate: Boilerplate, at_start: bool, at_end: bool,
           backticks: bool = False) -> str:
    """Text between fences. Its first line continues a line with math or code unless ``at_start`` (likewise its
    last line and ``at_end``): only whole lines are boilerplate candidates."""
    if not text:
        return text
    # a fence that lost its other half (never seen: each is one text node; the page's own were removed in _parse):
    # never let one through. MATH_OPEN is not searched: alone it is no fence half, and in a UCS-2 string its low
    # byte 0 makes CPython's search stop at every ASCII character
    if not text.isascii() and _has(text, *_SENTINELS[1:]):
        text = _STRAY.sub("", text)
    if "\n" in text or (at_start and at_end):
        text = boilerplate.clean(text, keep_first=not at_start, keep_last=not at_end)
    if delimited:
        text = _bbcode(text)
    if "$" in text or delimited:
        text = _delimited(text, counts)
    if backticks and "`" in text:
        text = _BACKTICK.sub(lambda m: _asciimath(m, counts), text)
    return text


def _delimited(text: str, counts: dict) -> str:
    """One scan by the shared definition of math: ``$..$`` / ``$$..$$`` counted, ``\\(..\\)`` / ``\\[..\\]``
    written as ``$..$`` / ``$$..$$``."""
    out, pos = [], 0
    for span in mathspans.find(text):
        out.append(text[pos:span.start])
        out.append(text[span.start:span.end] if span.kind in ("$", "$$", "env") else mathspans.normalize(span))
        _count(counts, "text_delimited", span.display)
        pos = span.end
    if not pos:
        return text
    out.append(text[pos:])
    return "".join(out)


def _asciimath(m: re.Match, counts: dict) -> str:
    tex = asciimath_tex(m.group(1))
    if not tex:
        return m.group(0)
    _count(counts, "asciimath", False)
    return f"${tex}$"


def _bbcode(text: str) -> str:
    """BBCode TeX ([tex]..[/tex], ...) and ##..## as $..$ / $$..$$. Each tag's closing tag is looked up with
    str.find within ``_BBCODE_MAX`` characters: a page of unclosed tags costs one search per tag, not a regex
    backtrack over the page."""
    if "[/" in text:
        out, pos, low = [], 0, text.lower()
        for m in _BBCODE_TAG.finditer(text):
            if m.start() < pos:
                continue
            tag = m.group(1).lower()
            close = low.find(f"[/{tag}]", m.end(), m.end() + _BBCODE_MAX)
            body = text[m.end():close].strip() if close != -1 else ""
            if not body or _BLANK_LINE.search(body):
                continue
            out += [text[pos:m.start()], f"${body}$" if tag in _BBCODE_INLINE else f"$${body}$$"]
            pos = close + len(tag) + 3
        if out:
            text = "".join(out) + text[pos:]
    if "##" in text:
        text = _HASH_MATH.sub(lambda m: f"${m.group(1)}$" if mathspans.is_math_body(m.group(1), "$") else m.group(0),
                              text)
    return text


# -- datatrove step -------------------------------------------------------------------------------------------


class MathExtractor(BaseExtractor):
    """Replaces ``doc.text`` (raw HTML) with its math-aware extraction; adds ``math_inline``, ``math_display`` and
    ``math_sources`` to ``doc.metadata``.

    Every document runs under datatrove's ``ExtractorSandbox``: in a worker process with a time limit, so a
    pathological page (50 MB, a DOM 100,000 deep) costs at most ``timeout`` seconds and a counted ``timeout`` drop.
    Drops are counted as ``dropped_timeout``, ``dropped_broken_process`` (the worker died: out of memory, or an
    exception, which the sandbox does not send back), ``dropped_extract_error`` and ``dropped_empty_text``.
    """

    name = "∑ math-aware extraction"

    def __init__(
        self,
        timeout: float = 5.0,
        main_content: bool = True,
        boilerplate_lines: str | Path = BOILERPLATE_LINES,
        boilerplate_patterns: str | Path = BOILERPLATE_PATTERNS,
        skip_elements: str | Path = SKIP_ELEMENTS,
    ):
        super().__init__(timeout=timeout)
        self.main_content = main_content
        self.boilerplate_lines = str(boilerplate_lines)
        self.boilerplate_patterns = str(boilerplate_patterns)
        self.skip_elements = str(skip_elements)
        _boilerplate(self.boilerplate_lines, self.boilerplate_patterns).clean("")  # a bad list fails here, not per page

    def extract(self, text: str) -> tuple[str, dict]:
        return extract_math_text(
            text,
            main_content=self.main_content,
            boilerplate_lines=self.boilerplate_lines,
            boilerplate_patterns=self.boilerplate_patterns,
            skip_elements=self.skip_elements,
        )

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with ExtractorSandbox(timeout=self.timeout, warmup_text="") as sandbox:
            for doc in data:
                self.stat_update(StatHints.total)
                with self.track_time():
                    try:
                        text, counts = sandbox.process_document(doc.text, self.extract)
                    except TimeoutError:
                        self._drop("timeout", doc)
                        continue
                    except EOFError:  # the worker died (OOM): the sandbox starts a new one for the next document
                        self._drop("broken_process", doc)
                        continue
                    except Exception as e:  # noqa: BLE001 - a bad page is a counted drop, never a crash
                        self._drop("extract_error", doc, e)
                        continue
                if not text:
                    self._drop("empty_text", doc)
                    continue
                doc.text = text
                doc.metadata.update(counts)
                self.stat_update(StatHints.forwarded)
                self.update_doc_stats(doc)
                yield doc

    def _drop(self, reason: str, doc, error: Exception | None = None) -> None:
        self.stat_update(StatHints.dropped, f"dropped_{reason}")
        if error is not None and not self._warned_error:
            logger.warning(f"extraction error {error!r} on {doc.id}; counted as dropped_extract_error (warned once)")
            self._warned_error = True
