"""Math-aware extraction: HTML -> the page's main text, with math as ``$...$`` / ``$$...$$`` LaTeX.

resiliparse is the engine (``HTMLTree`` DOM + ``extract_plain_text(main_content=True)``), but it drops
``<script type="math/tex">`` and flattens MathML into a jumble of glyphs, so math is rewritten in the DOM first: each
math node is replaced by a text node holding its LaTeX with delimiters. Sources, in order:

- MathJax 2 ``<script type="math/tex">`` (``; mode=display`` -> ``$$``); the rendered copies MathJax leaves beside
  it (``.MathJax``, ``.MathJax_Preview``, ``mjx-container``...) are dropped;
- KaTeX: the TeX ``annotation`` of ``.katex``; the duplicate ``.katex-html`` rendering goes with it;
- MathML ``<math>`` (Wikipedia, MathJax 3's assistive MathML...): the ``application/x-tex`` annotation, else
  ``alttext``, else a small MathML -> LaTeX conversion (:mod:`proofpile.web.mathml`); ``display="block"`` -> ``$$``;
- Stack Exchange ``.math-container`` spans (their text is already ``$``-delimited TeX);
- images whose alt text or URL carries LaTeX (codecogs, WordPress ``latex.php``, mimetex, ``tex.cgi``,
  Wikipedia's fallback images);
- delimited math already in the text: ``\\(...\\)`` -> ``$...$``, ``\\[...\\]`` -> ``$$...$$``, ``$$...$$`` and
  ``\\begin{align}...\\end{align}``-style environments kept intact.

Two of OpenWebMath's bugs are avoided by construction: a lone ``$`` in prose is never a delimiter (so "costs $5 and
$10" stays text), and inserted or delimited math is fenced with private-use sentinels while the text is cleaned, so
``align`` environments (``\\\\[2pt]`` line breaks included) come out exactly as written. ``pre``/``code`` contents
are fenced the same way: a ``\\(`` in a regex stays a ``\\(``.

Around resiliparse: UI elements it keeps (forms, share widgets, vote buttons) are skipped by CSS selector, bullet
lists without links are kept (its main-content pass drops every ``<ul>``, formulas and all), a pathologically deep
DOM is extracted without the main-content pass (quadratic in depth), and after extraction whole lines that are UI
boilerplate ("Share", "Log in", cookie notices) are dropped. The selectors and line lists are data in
``filters/web/``.

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

from proofpile.config import read_list
from proofpile.web import mathml

FILTERS_DIR = Path(__file__).resolve().parents[2] / "filters" / "web"
BOILERPLATE_LINES = FILTERS_DIR / "boilerplate-lines.txt"
BOILERPLATE_PATTERNS = FILTERS_DIR / "boilerplate-patterns.txt"
SKIP_ELEMENTS = FILTERS_DIR / "skip-elements.txt"

SOURCES = ("mathjax", "katex", "mathml", "math_container", "img_alt", "img_url", "text_delimited")
# Math and code are fenced in the DOM by private-use characters, so that nothing after extraction (delimiter
# normalisation, line filters) touches them: MATH_OPEN + one source char + "$..$" + MATH_CLOSE.
MATH_OPEN, MATH_CLOSE, CODE_OPEN, CODE_CLOSE = "\ue000", "\ue001", "\ue002", "\ue003"
_SOURCE_CHAR = {name: chr(0xE010 + i) for i, name in enumerate(SOURCES)}
_CHAR_SOURCE = {char: name for name, char in _SOURCE_CHAR.items()}
_SENTINELS = (MATH_OPEN, MATH_CLOSE, CODE_OPEN, CODE_CLOSE)
# The page is searched for all of them but MATH_OPEN: in a UCS-2 string its low byte is 0, which CPython's search
# (memchr of the low byte) meets at every ASCII character, so it costs as much as the rest together. A page's own
# MATH_OPEN cannot open a fence anyway (a fence needs a source char after it, and a page with one is cleaned), never
# reaches a formula (see _math_node), and one left in prose or code is stripped there
_PAGE_SENTINELS = (MATH_CLOSE, CODE_OPEN, CODE_CLOSE, *_SOURCE_CHAR.values())
_FENCED = re.compile("\ue000([" + "".join(_SOURCE_CHAR.values()) + "])(.*?)\ue001|\ue002(.*?)\ue003", re.S)
_STRAY = re.compile("[\ue000-\ue003\ue010-\ue01f]")

# delimited math in prose; a backslash before \( or \[ is a TeX line break (\\[2pt]) or an escape, not a delimiter.
# Bounded, and within a paragraph (inline math within a line): a stray \[ never swallows a page.
_ENVIRONMENTS = r"equation|align|alignat|gather|multline|flalign|eqnarray|displaymath|math"
_DELIMITED = re.compile(
    r"\$\$(?P<dd>(?:[^$\n]|\n(?!\n)){1,5000}?)\$\$"
    r"|(?<!\\)\\\[(?P<bd>(?:[^\n]|\n(?!\n)){1,5000}?)(?<!\\)\\\]"
    r"|(?<!\\)\\\((?P<bi>[^\n]{1,2000}?)(?<!\\)\\\)"
    r"|(?P<env>\\begin\{(?P<name>(?:" + _ENVIRONMENTS + r")\*?)\}(?:[^\n]|\n(?!\n)){1,5000}?\\end\{(?P=name)\})"
)
# a $...$ span in prose that is certainly TeX, counted (never rewritten: it already is $-delimited): the content
# starts and ends with a non-space, is not a price ($5, $3.50) and holds a TeX-only character or is one letter
_DOLLAR_MATH = re.compile(r"\$(?<![\\$\w]\$)(?![\s\d$])([^$\n]{1,400}?)(?<![\s\\])\$(?![\w$])")  # "$" first: fast
_TEXISH = re.compile(r"[\\^_{}]|^[A-Za-z]$")
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
# everything the rewrites look at, in one selector (class substrings cost lexbor less than class lists; the classes
# are checked exactly in Python). lexbor pays for every element and every selector of the list, so alternatives
# that share a test are grouped in one :is(): a third cheaper than listing them
_MATH_SELECTOR = ", ".join(
    ['script[type^="math/tex" i]', "math", "mjx-container",
     '[class]:is([class*="katex"], [class*="math-container"], [class*="MathJax"], [class*="mjx-chtml"])',
     # only images that may carry LaTeX: building a Python node for every image on a page costs more than this
     'img:is([src*="tex"], [src*="TeX"], [src*="cht=tx"], [class*="tex"], [class*="math"], [class*="equation"], '
     '[class*="formula"], [class*="ql-img"])',
     "ul:not(:has(a))"]  # see _keep_list
)
# delimiters of math in text; code that holds one is fenced (see extract_math_text)
_TEXT_DELIMITERS = ("\\(", "\\[", "$$", "\\begin{")
# wrappers that hold one formula (often hidden, or with a second rendering): replaced whole by the formula
_MATH_WRAPPER_CLASSES = _MATHJAX_RENDERED_CLASSES | {"mwe-math-element", "katex-display", "katex",
                                                     "MJX_Assistive_MathML", "mwe-math-mathml-inline",
                                                     "mwe-math-mathml-display"}
_OUTER_WRAPPER_CLASSES = frozenset({"mwe-math-element", "katex-display", "MathJax_Display", "MathJax_SVG_Display"})
_WRAPPER_LEVELS = 4
# resiliparse's main-content pass is quadratic in the DOM's depth (0.05 s at 2,000, 2 s at 10,000, minutes at
# 100,000): a page with this many opening tags in a row is extracted without it
_DEEP_DOM_TAGS = 2000
_DEEP_DOM = re.compile(r"(?:<[A-Za-z][^<>]*>[^<]*){%d}" % _DEEP_DOM_TAGS)
# TeX that typesets nothing: Stack Exchange wraps every post in $\\begingroup$ ... $\\endgroup$ to scope macros
_NOT_MATH = frozenset({"\\begingroup", "\\endgroup", "\\relax"})
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")




_LINE_PUNCTUATION = " \t|•·»«<>:;,.!?-–—_*#()[]{}\"'↑↓←→"


class Boilerplate:
    """Drops whole lines that are UI boilerplate: exact short labels, or short lines matching a pattern.

    Patterns are matched at the start of a line (one ``re.match`` of their alternation, case-insensitive), so a
    normal line costs a few character comparisons. Patterns written ``.*x`` match anywhere in a line: each ``x`` is
    searched once in the lowercased text (write them in lowercase, starting with a literal, which ``re`` finds
    fast), and only the lines it finds are looked at.
    """

    MAX_PATTERN_LINE = 200

    def __init__(self, lines_file: str | Path = BOILERPLATE_LINES, patterns_file: str | Path = BOILERPLATE_PATTERNS):
        self.lines = frozenset(line.lower().strip(_LINE_PUNCTUATION) for line in read_list(lines_file))
        self.max_label = max((len(line) for line in self.lines), default=0) + 8  # room for punctuation around it
        patterns = read_list(patterns_file)
        at_start = [p for p in patterns if not p.startswith(".*")]
        self.at_start = re.compile(r"\s*(?:" + "|".join(f"(?:{p})" for p in at_start) + ")", re.I) if at_start else None
        self.anywhere = [re.compile(p[2:]) for p in patterns if p.startswith(".*")]
        # (whether an empty line is dropped, known once: a third of all lines are empty)
        self.drops_empty = "" in self.lines or (self.at_start is not None and self.at_start.match("") is not None)

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

    def clean(self, text: str, keep_first: bool = False, keep_last: bool = False) -> str:
        """``text`` without its boilerplate lines; ``keep_first``/``keep_last`` spare a partial first/last line."""
        lines = text.split("\n")
        labels, max_label, max_line = self.lines, self.max_label, self.MAX_PATTERN_LINE
        at_start = self.at_start.match if self.at_start is not None else lambda line: None
        drops_empty = self.drops_empty
        # a comprehension, not a loop of drop.add(): this runs on every line of every page
        drop = {
            i for i, line in enumerate(lines)
            if (line or drops_empty) and len(line) <= max_line and (
                (len(line) <= max_label and line.lower().strip(_LINE_PUNCTUATION) in labels)
                or at_start(line) is not None
            )
        }
        if self.anywhere:
            low = text.lower()
            for pattern in self.anywhere:
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


@functools.lru_cache(maxsize=8)
def _boilerplate(lines_file: str, patterns_file: str) -> Boilerplate:
    return Boilerplate(lines_file, patterns_file)


# one attribute test ([class*="share"], [role="button"]) or one class (.x): grouped by attribute, see _skip_elements
_ONE_ATTRIBUTE = re.compile(r'\[(?P<attr>[\w-]+)(?:[*^$~|]?=(?:"[^"]*"|[\w-]+)(?:\s+[iIsS])?)?\]|\.[\w-]+')


@functools.lru_cache(maxsize=8)
def _skip_elements(path: str) -> tuple[str, ...]:
    """The selectors of ``path``, those that test one attribute grouped as ``[attr]:is(...)``: resiliparse matches
    every element against every selector, and an element without the attribute fails the group at once (same
    elements, a quarter of the cost)."""
    groups: dict[str, list[str]] = {}
    for selector in read_list(path):
        m = _ONE_ATTRIBUTE.fullmatch(selector)
        key = (m.group("attr") or "class") if m else selector
        groups.setdefault(key, []).append(selector)
    return tuple(
        f"[{key}]:is({', '.join(selectors)})" if len(selectors) > 1 else selectors[0]
        for key, selectors in groups.items()
    )


def _looks_deep(html: str) -> bool:
    """Whether the page nests ``_DEEP_DOM_TAGS`` opening tags without a closing tag between them: the shape of a
    pathologically deep DOM. The run must lie in the longest stretch without '</' (a heuristic: a deep DOM that
    interleaves closing tags is left to the timeout), found first: that costs less than counting the page's '<'."""
    start, end = _longest_stretch(html)
    return html.count("<", start, end) >= _DEEP_DOM_TAGS and _DEEP_DOM.search(html, start, end) is not None


# _DEEP_DOM needs at least this many characters ("<a>" per tag)
_DEEP_DOM_MIN_CHARS = 3 * _DEEP_DOM_TAGS


def _longest_stretch(html: str) -> tuple[int, int]:
    """The span of ``max(html.split("</"), key=len)`` if it is ``_DEEP_DOM_MIN_CHARS`` long, else a shorter one, without
    splitting the page (on a non-ASCII page that costs ten times more). A stretch that long without "</" holds a
    whole aligned block of half its length, so only blocks with no "</" are looked at, and the stretch around each."""
    block = _DEEP_DOM_MIN_CHARS // 2
    longest, k, n = (0, 0), 0, len(html)
    while k < n:
        if html.find("</", k, k + block + 1) != -1:
            k += block
            continue
        start = html.rfind("</", 0, k + 1)
        start = 0 if start == -1 else start + 2
        end = html.find("</", k)
        end = n if end == -1 else end
        if end - start > longest[1] - longest[0]:
            longest = (start, end)
        k = end + 2 + (-(end + 2) % block)  # the next aligned block past this stretch
    return longest


def _has(html: str, *markers: str) -> bool:
    return any(map(html.__contains__, markers))  # (a generator costs a frame per marker)


def _has_delimiters(text: str) -> bool:
    """``_has(text, *_TEXT_DELIMITERS)``, by one-character searches first (several times faster on non-ASCII)."""
    return ("\\" in text and _has(text, "\\(", "\\[", "\\begin{")) or ("$" in text and "$$" in text)


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
    if not html.isascii() and _has(html, *_PAGE_SENTINELS):  # the page's own private-use chars must not fake a fence
        html = _STRAY.sub("", html)
    try:
        tree = HTMLTree.parse(html)
    except UnicodeEncodeError:  # lone surrogates (a str decoded with surrogateescape): lexbor takes UTF-8 only
        html = html.encode("utf-8", "replace").decode("utf-8")
        tree = HTMLTree.parse(html)
    root = tree.document
    if root is None or tree.body is None:
        return "", counts

    _rewrite_math(tree, root)
    deep = _looks_deep(html)
    options = dict(
        main_content=main_content and not deep,
        alt_texts=False,
        links=False,
        form_fields=False,
        noscript=False,
        comments=True,
        skip_elements=list(_skip_elements(str(skip_elements))),
    )
    text = extract_plain_text(tree, **options)
    # Code must reach the text verbatim, but normalising \( \) would rewrite a regex in a <pre>: when the text has
    # such delimiters and some code holds one, fence the code and extract again (rare: scanning the raw page for
    # delimiters up front would cost every page more than this costs the few)
    delimited = _has_delimiters(text)
    if delimited and _fence_code(tree, root):
        text = extract_plain_text(tree, **options)
    boilerplate = _boilerplate(str(boilerplate_lines), str(boilerplate_patterns))
    text = _unfence(text, counts, delimited, boilerplate)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if not text:
        return "", empty_counts()
    return text, counts


# -- DOM rewrites ---------------------------------------------------------------------------------------------


def _math_node(tree, tex: str, display: bool, source: str):
    tex = tex.strip() if tex.isascii() else _STRAY.sub("", tex).strip()
    if not tex or tex in _NOT_MATH:
        return tree.create_text_node("")
    delim = "$$" if display else "$"
    return tree.create_text_node(f"{MATH_OPEN}{_SOURCE_CHAR[source]}{delim}{tex}{delim}{MATH_CLOSE}")


def _rewrite_math(tree, root) -> None:
    """Every DOM rewrite from one walk of the DOM (one CSS query costs about as much as ten substring tests of the
    raw page), grouped by kind and applied in an order where wrappers go before what they wrap."""
    scripts, katex, maths, rendered, containers, images, lists = [], [], [], [], [], [], []
    for node in root.query_selector_all(_MATH_SELECTOR).values():
        tag = node.tag
        if tag == "script":
            scripts.append(node)
        elif tag == "math":
            maths.append(node)
        elif tag == "img":
            images.append(node)
        elif tag == "ul":
            lists.append(node)
        elif tag == "mjx-container":
            rendered.append(node)
        else:
            classes = _classes(node)
            if "katex" in classes:
                katex.append(node)
            elif "math-container" in classes:
                containers.append(node)
            elif classes & _MATHJAX_RENDERED_CLASSES:
                rendered.append(node)
    for script in scripts:
        display = "mode=display" in (script.getattr("type") or "").lower()
        script.replace_with(_math_node(tree, script.text or "", display, "mathjax"))
    for node in katex:
        _rewrite_katex(tree, node)
    if scripts:  # MathJax drew these from the scripts (rewritten above): its MathML copies must not count twice
        _remove(rendered)
    for math in maths:
        _rewrite_mathml(tree, root, math)
    if not scripts:  # the MathML inside these replaced them above; what is left is drawing
        _remove(rendered)
    for span in containers:
        _rewrite_math_container(tree, span)
    for img in images:
        if root.contains(img):  # not gone with a rewritten formula (Wikipedia's fallback image of each <math>)
            _rewrite_latex_image(tree, img)
    for node in lists:
        _keep_list(tree, node)


def _keep_list(tree, ul) -> None:
    """resiliparse's main-content pass drops every <ul> (it keeps <ol>), and with them theorem lists, case
    analyses and formulas in bullets. A list without links is content, not navigation: it becomes an <ol>."""
    if ul.parent is None:
        return
    ol = tree.create_element("ol")
    ol.append(*ul.child_nodes.values())
    ul.replace_with(ol)


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


def _rewrite_mathml(tree, root, math) -> None:
    if math.parent is None or not root.contains(math):  # went with an enclosing wrapper already (KaTeX)
        return
    tex = _tex_annotation(math)
    if tex is None:
        tex = math.getattr("alttext")
    if tex is None or not tex.strip():
        tex = mathml.convert(math)
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
    tex = (span.text or "").strip()
    display = tex.startswith("$$") or tex.startswith("\\[")
    for open_, close in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if tex.startswith(open_) and tex.endswith(close) and len(tex) >= len(open_) + len(close):
            tex = tex[len(open_): len(tex) - len(close)]
            break
    span.replace_with(_math_node(tree, tex, display, "math_container"))


def _rewrite_latex_image(tree, img) -> None:
    src = img.getattr("src") or img.getattr("data-src") or ""
    classes = (img.class_name or "").lower().split()
    alt = (img.getattr("alt") or "").strip()
    latex_url = bool(src) and _LATEX_IMG_URL.search(src) is not None
    if alt and any(c in _LATEX_IMG_CLASSES for c in classes):
        tex, source = alt, "img_alt"
    elif latex_url:
        tex, source = _tex_from_url(src) or alt, "img_url"
    elif alt and any(c in _LATEX_IMG_WEAK_CLASSES for c in classes) and _TEXISH.search(alt):
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


def _tex_from_url(src: str) -> str:
    query = urlsplit(src).query
    for key in ("latex=", "tex=", "chl=", "formula="):
        for part in query.split("&"):
            if part.startswith(key):
                return unquote_plus(part[len(key):])
    if "codecogs" in src.lower():
        # codecogs: https://latex.codecogs.com/gif.latex?<tex>, spaces as %20 (a '+' is a plus)
        return unquote_plus(query.replace("+", "%2B")) if query else unquote_plus(src.rsplit("latex?", 1)[-1])
    return unquote_plus(query.replace("+", "%2B"))


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


def _unfence(text: str, counts: dict, delimited: bool, boilerplate: Boilerplate) -> str:
    """Restore fenced math and code verbatim; in the prose between them drop boilerplate lines and normalise
    delimited math (when ``delimited``: the text has a delimiter); count the math."""
    if MATH_CLOSE not in text and CODE_OPEN not in text:  # (not MATH_OPEN: see _PAGE_SENTINELS)
        return _prose(text, counts, delimited, boilerplate, True, True)
    out = []
    pos = 0
    for m in _FENCED.finditer(text):
        out.append(_prose(text[pos: m.start()], counts, delimited, boilerplate, pos == 0, False))
        if m.group(1) is not None:
            tex = m.group(2)
            out.append(tex)
            _count(counts, _CHAR_SOURCE.get(m.group(1), "mathml"), tex.startswith("$$"))
        else:  # code, verbatim (math fenced inside it, e.g. a MathJax script in a <pre>, is just its text)
            code = m.group(3)
            out.append(_STRAY.sub("", code) if MATH_OPEN in code else code)
        pos = m.end()
    out.append(_prose(text[pos:], counts, delimited, boilerplate, pos == 0, True))
    return "".join(out)


def _count(counts: dict, source: str, display: bool) -> None:
    counts["math_display" if display else "math_inline"] += 1
    counts["math_sources"][source] = counts["math_sources"].get(source, 0) + 1


def _prose(text: str, counts: dict, delimited: bool, boilerplate: Boilerplate, at_start: bool, at_end: bool) -> str:
    """Text between fences. Its first line continues a line with math or code unless ``at_start`` (likewise its
    last line and ``at_end``): only whole lines are boilerplate candidates."""
    if not text:
        return text
    # a fence that lost its other half (never seen), or the page's own MATH_OPEN: never let one through
    if not text.isascii() and _has(text, *_SENTINELS):
        text = _STRAY.sub("", text)
    if "\n" in text or (at_start and at_end):
        text = boilerplate.clean(text, keep_first=not at_start, keep_last=not at_end)
    if "$" in text:  # counted before \(..\) becomes $..$, so that nothing is counted twice
        for m in _DOLLAR_MATH.finditer(text):
            if _TEXISH.search(m.group(1)):
                _count(counts, "text_delimited", False)
    if delimited:
        text = _DELIMITED.sub(lambda m: _delimited(m, counts), text)
    return text


def _delimited(m: re.Match, counts: dict) -> str:
    if m.group("env") is not None:
        _count(counts, "text_delimited", True)
        return m.group("env")
    if m.group("dd") is not None:
        if not m.group("dd").strip():
            return m.group(0)
        _count(counts, "text_delimited", True)
        return m.group(0)
    if m.group("bd") is not None:
        _count(counts, "text_delimited", True)
        return "$$" + m.group("bd").strip() + "$$"
    _count(counts, "text_delimited", False)
    return "$" + m.group("bi").strip() + "$"


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
