"""Prefilter on raw HTML: keep a page only if it carries a math marker or a LaTeX command.

On a typical crawl well under 1% of pages pass, so this runs before any parsing and must be cheap: one
Aho-Corasick pass (pyahocorasick) over the lowercased HTML, stopping at the first hit.
"""

from __future__ import annotations

from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from proofpile.config import read_list




class MarkerMatcher:
    """Finds the first marker in a text. Markers are matched case-insensitively; one ending in a letter only
    matches when the next character is not a letter (``\\sum`` must not fire on ``\\summary``)."""

    def __init__(self, markers: list[str], whole_word_markers: list[str] = ()):
        self.markers = [m.lower() for m in markers]
        self.whole_word = [m.lower() for m in whole_word_markers]
        self._automaton = None

    def _build(self):
        import ahocorasick

        automaton = ahocorasick.Automaton()
        for marker in self.markers:
            automaton.add_word(marker, (marker, False))
        for marker in self.whole_word:
            # a marker in both lists is matched as a plain substring
            if marker not in automaton:
                automaton.add_word(marker, (marker, marker[-1].isalpha()))
        automaton.make_automaton()
        return automaton

    def first(self, text: str) -> str | None:
        if self._automaton is None:
            self._automaton = self._build()
        lowered = text.lower()
        n = len(lowered)
        for end, (marker, needs_boundary) in self._automaton.iter(lowered):
            if needs_boundary and end + 1 < n and lowered[end + 1].isalpha():
                continue
            return marker
        return None

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_automaton"] = None  # rebuilt in the worker
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
