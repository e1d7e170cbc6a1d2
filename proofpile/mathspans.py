"""The one definition of "this is math" in text: which ``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]`` and
``\\begin{env}…\\end{env}`` spans are formulas, and which dollars are prices.

Every consumer asks here: the web extractor (counting and normalising delimited math), MathScore's input, the
language-ID stripper, the TeX code filter and the Jupyter notebook test. Rules (pandoc's ``tex_math_dollars``, made
stricter for prose that holds prices):

- ``$$body$$``: ``body`` holds a letter, a digit or a backslash (``Price range: $$ - $$$`` is not math) and no blank
  line;
- ``$body$``: the opening ``$`` is not escaped (``\\$``) nor part of ``$$``, and is followed by a non-space; the
  closing ``$`` follows a non-space, non-backslash, and is not followed by a digit (so ``costs $5 and $10`` is
  prose: its second ``$`` opens ``$10``, it does not close ``$5 and $``); the body stays on one line and looks like
  TeX: it holds one of ``\\ ^ _ { } = < > + - * | (`` or is one or two letters/digits (``$x$``, ``$2n$``). That
  keeps shell variables and tickers (``$HOME/$USER``, ``$AAPL,$MSFT``) out;
- ``\\(body\\)`` (one line) and ``\\[body\\]`` (no blank line) whose opener is not itself escaped (``\\\\[2pt]`` is a
  TeX line break); environments of display math (``equation``, ``align``, ...), starred or not.

Spans are bounded (a stray opener never swallows a page) and found in one left-to-right scan.
"""

from __future__ import annotations

import re
from typing import Iterator, NamedTuple

MAX_DISPLAY_BODY = 5000  # characters of a display span's body (inline ones are shorter)
# the most characters a span covers, its delimiters included: text that goes on this far past a point holds whole
# every span that starts before it
LONGEST_SPAN = MAX_DISPLAY_BODY + 64
ENVIRONMENTS = ("equation", "align", "alignat", "gather", "multline", "flalign", "eqnarray", "displaymath", "math")

# Two patterns, one per opening character, each searched on its own: a pattern led by one literal character is
# found by a scan for it, while an alternation led by "$" or "\\" would be tried at every position of the text
# (re tests a set of first characters one character at a time: ~4x the time of both scans). At a position only the
# branches of its character can match, so the leftmost match of the two is the leftmost match of their alternation.
# Each looks behind its opener afterwards.
_DOLLAR_SPAN = re.compile((
    r"\$\$(?<!\\\$\$)(?P<dd>(?:[^$\n]|\n(?![ \t]*\n)){1,%(display)d}?)\$\$"
    r"|\$(?<![\\$]\$)(?![\s$])(?P<d>[^$\n]{1,400}?)(?<![\s\\])\$(?![\d$])"
) % {"display": MAX_DISPLAY_BODY})
_BACKSLASH_SPAN = re.compile((
    r"\\(?<!\\\\)(?:\[(?P<bd>(?:[^\n]|\n(?![ \t]*\n)){1,%(display)d}?)(?<!\\)\\\]"
    r"|\((?P<bi>[^\n]{1,2000}?)(?<!\\)\\\)"
    r"|(?P<env>begin\{(?P<name>(?:" + "|".join(ENVIRONMENTS) + r")\*?)\}"
    r"(?P<eb>(?:[^\n]|\n(?![ \t]*\n)){1,%(display)d}?)\\end\{(?P=name)\}))"
) % {"display": MAX_DISPLAY_BODY})
_DISPLAY_BODY = re.compile(r"[^\W_]|\\")
_INLINE_TEX = re.compile(r"[\\^_{}=<>+\-*|(]|^[^\W_]{1,2}$")


class Span(NamedTuple):
    start: int
    end: int
    body: str  # the TeX between the delimiters (an environment: the whole \begin..\end)
    display: bool
    kind: str  # "$$", "$", "\\[", "\\(", "env"


def is_math_body(body: str, kind: str) -> bool:
    """Whether a delimited ``body`` is a formula (the delimiters already matched the rules above)."""
    if kind == "$":
        return _INLINE_TEX.search(body) is not None
    return _DISPLAY_BODY.search(body) is not None


# the kind of span and the group holding its body, by the group that closed last (``Match.lastgroup``)
_KIND_AND_BODY = {"d": ("$", "d"), "dd": ("$$", "dd"), "bi": ("\\(", "bi"), "bd": ("\\[", "bd"), "env": ("env", "eb")}
# and the search that tells a formula's body (``is_math_body``)
_KIND_BODY_TEST = {group: (kind, body, (_INLINE_TEX if kind == "$" else _DISPLAY_BODY).search)
                   for group, (kind, body) in _KIND_AND_BODY.items()}


def _math_matches(text: str) -> Iterator[tuple[re.Match, str]]:
    """The matches of the math spans of ``text`` and their kinds, left to right, not overlapping."""
    pos = 0
    kinds, dollar, backslash = _KIND_BODY_TEST, _DOLLAR_SPAN.search, _BACKSLASH_SPAN.search
    # the next match of each pattern from pos on (the one found still is while pos has not passed its start), and
    # where it starts (``never``, past every position, when there is none)
    never = len(text) + 1
    d, b = dollar(text), backslash(text)
    d_at, b_at = never if d is None else d.start(), never if b is None else b.start()
    while True:
        if d_at < pos:
            d = dollar(text, pos)
            d_at = never if d is None else d.start()
        if b_at < pos:
            b = backslash(text, pos)
            b_at = never if b is None else b.start()
        if d_at < b_at:
            m, at = d, d_at
        elif b_at < never:
            m, at = b, b_at
        else:
            return
        kind, group, is_body = kinds[m.lastgroup]
        if is_body(m.group(group)) is not None:  # is_math_body, inlined
            yield m, kind
            pos = m.end()
        else:  # not math: its closing delimiter may open the next span ("$$ - $$x^2$$" is not the case, but "$$$")
            pos = at + 1


def find(text: str) -> Iterator[Span]:
    """The math spans of ``text``, left to right, not overlapping."""
    for m, kind in _math_matches(text):
        body = "\\" + m.group("env") if kind == "env" else m.group(_KIND_AND_BODY[m.lastgroup][1])
        yield Span(m.start(), m.end(), body, kind != "$" and kind != "\\(", kind)


def has_math(text: str) -> bool:
    if "$" not in text and "\\" not in text:  # every delimiter holds one (two scans in C, no regex set up)
        return False
    return next(_math_matches(text), None) is not None


def strip(text: str, replacement: str = " ") -> str:
    """``text`` with every math span replaced by ``replacement``: the prose, for language ID."""
    return prose_and_count(text, replacement)[0]


def prose_pieces(text: str) -> Iterator[str]:
    """The text between the math spans of ``text``, left to right (``strip`` joins them with its replacement), each
    found as it is asked for: a reader that stops early leaves the rest of the text unscanned."""
    pos = 0
    for match, _ in _math_matches(text):
        yield text[pos:match.start()]
        pos = match.end()
    yield text[pos:]


def prose_and_count(text: str, replacement: str = " ") -> tuple[str, int]:
    """``strip(text)`` and the number of math spans it replaced, from one scan."""
    pieces = list(prose_pieces(text))
    return (text, 0) if len(pieces) == 1 else (replacement.join(pieces), len(pieces) - 1)


def normalize(span: Span) -> str:
    """The span as the extractor writes math: ``$body$`` inline, ``$$body$$`` display, environments as written."""
    if span.kind == "env":
        return span.body
    body = span.body.strip()
    return f"$${body}$$" if span.display else f"${body}$"
