"""Prefilter on raw HTML: keep a page only if it carries a math marker or a LaTeX command.

On a typical crawl well under 1% of pages pass, so this runs before any parsing and must be cheap: one
Aho-Corasick pass over the page's UTF-8 bytes, ASCII-lowercased (``bytes.lower`` is a plain C loop, where
``str.lower`` on a non-ASCII page walks Unicode tables). The automaton is ``ahocorasick_rs`` (Rust's aho-corasick
crate, SIMD-accelerated): 3.5x faster than pyahocorasick over lowercased ``str`` on the benchmark's real pages.
"""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from proofpile.config import read_list


class MarkerMatcher:
    """Finds the first marker in a text. Markers are ASCII and matched case-insensitively; one from the whole-word
    list ending in a letter only matches when the next byte is not an ASCII letter (``\\sum`` must not fire on
    ``\\summary``)."""

    def __init__(self, markers: list[str], whole_word_markers: list[str] = ()):
        plain = [m.lower() for m in markers]
        # a marker in both lists is matched as a plain substring
        words = [m.lower() for m in whole_word_markers if m.lower() not in set(plain)]
        self.patterns = list(dict.fromkeys(plain + words))
        needs_boundary = {w for w in words if w[-1].isalpha()}
        self.needs_boundary = [p in needs_boundary for p in self.patterns]
        self._automaton = None

    def first(self, text: str) -> str | None:
        if self._automaton is None:
            import ahocorasick_rs

            self._automaton = ahocorasick_rs.BytesAhoCorasick([p.encode() for p in self.patterns])
        haystack = text.encode("utf-8", "surrogatepass").lower()
        for index, _, end in self._automaton.find_matches_as_indexes(haystack, overlapping=True):
            if self.needs_boundary[index] and haystack[end:end + 1].isalpha():
                continue
            return self.patterns[index]
        return None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_automaton"] = None  # not picklable: rebuilt in the worker
        return state


class MathPrefilter(BaseFilter):
    """Keeps raw-HTML documents that contain a math marker (MathJax, KaTeX, MathML, TeX images, ...) or a LaTeX
    command; records the first hit in ``meta.math_marker``. Drops the rest as ``no_math_marker``."""

    name = "🧮 Math prefilter"

    def __init__(self, markers_file: str, latex_file: str | None = None, exclusion_writer=None):
        super().__init__(exclusion_writer)
        self.matcher = MarkerMatcher(read_list(markers_file), read_list(latex_file) if latex_file else [])

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        marker = self.matcher.first(doc.text)
        if marker is None:
            return False, "no_math_marker"
        doc.metadata["math_marker"] = marker
        return True
