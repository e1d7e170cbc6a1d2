"""Words for decontamination, and hashes of their n-grams for any n.

A word is a run of letters or digits, a TeX command (``\\frac``), or either of those written as a superscript or
subscript (``^2``, ``_{2}`` -> ``^2``, ``_2``: ``x^2`` and ``x_2`` stay apart). Punctuation, braces, ``$`` and
spacing are not words, so a 13-gram is thirteen real words, and reflowed or re-spaced text reads the same. Text is
lowercased (NFKC first when not ASCII). TeX spellings that do not change the formula -- ``\\left``/``\\right``,
``\\dfrac`` for ``\\frac``, ``\\text{}`` wrappers -- are read as one (``filters/decontam/tex-variants.yaml``).

Each distinct word is normalised and hashed once (xxh3, memoised), so a document costs one regex pass and one
dict lookup per word. n-gram hashes are windows of a polynomial hash over the word hashes, computed from one prefix
sum: the hash of the n words at ``i`` is ``(S[i+n] - S[i]) * R^-i`` (mod 2^64) with ``S`` the prefix sums of
``h[j] * R^j``, so every n costs two vector operations, and n-grams of several sizes cost little more than one.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import yaml
from xxhash import xxh3_64_intdigest

TEX_VARIANTS = Path(__file__).resolve().parents[2] / "filters" / "decontam" / "tex-variants.yaml"

# a TeX command; a word or command as superscript/subscript (an optional sign kept: x^{-1}); a letter/digit run
WORD = re.compile(r"\\[a-z]+|[\^_]\s*\{?\s*-?\s*(?:\\[a-z]+|[^\W_]+)|[^\W_]+")
_NOT_IN_WORD = re.compile(r"[\s{]")

_R = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible mod 2^64
_R_INV = np.uint64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))


def normalize(text: str) -> str:
    return text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).lower()


@cache
def tex_variants(path: str = str(TEX_VARIANTS)) -> tuple[frozenset, dict]:
    data = yaml.safe_load(Path(path).read_text())
    return frozenset(data["drop"]), dict(data["same"])


class WordHasher(dict):
    """raw word -> hash of its normalised form (0 for a word that is not one, like ``\\left``). Memoised: words
    repeat, and a hit is one C-level dict lookup."""

    def __init__(self, variants: str = str(TEX_VARIANTS), max_size: int = 1 << 21):
        super().__init__()
        self.drop, self.same = tex_variants(variants)
        self.max_size = max_size

    def word(self, raw: str) -> str | None:
        word = _NOT_IN_WORD.sub("", raw)
        prefix = word[0] if word[0] in "^_" else ""
        body = word[len(prefix):]
        if body in self.drop:
            return None
        return prefix + self.same.get(body, body)

    def __missing__(self, raw: str) -> int:
        if len(self) >= self.max_size:
            self.clear()
        word = self.word(raw)
        value = self[raw] = 0 if word is None else (xxh3_64_intdigest(word) or 1)
        return value

    def tokens(self, text: str) -> list[str]:
        """The raw word matches of a (normalised) text, dropped ones included (see ``hashes``)."""
        return WORD.findall(text)

    def hashes(self, raw_words: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """(hashes of the words that are words, their positions in ``raw_words`` or None when all are)."""
        h = np.fromiter(map(self.__getitem__, raw_words), dtype=np.uint64, count=len(raw_words))
        keep = h != 0
        if keep.all():
            return h, None
        where = np.flatnonzero(keep)
        return h[where], where

    def words(self, text: str) -> list[str]:
        """The normalised words of a text (for tests and reports; the hot path never builds them)."""
        return [w for w in map(self.word, WORD.findall(normalize(text))) if w is not None]


class NgramHasher:
    """Hashes of every n-gram of a word-hash sequence, for several n from one prefix sum."""

    def __init__(self):
        self._pow = np.ones(1, dtype=np.uint64)
        self._inv = np.ones(1, dtype=np.uint64)

    def _powers(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        if self._pow.size < m:
            size = max(m, 2 * self._pow.size)
            with np.errstate(over="ignore"):
                self._pow = np.cumprod(np.full(size, _R, dtype=np.uint64)) * _R_INV
                self._inv = np.cumprod(np.full(size, _R_INV, dtype=np.uint64)) * _R
        return self._pow[:m], self._inv[:m]

    def prefix(self, hashes: np.ndarray) -> np.ndarray:
        pw, _ = self._powers(hashes.size)
        out = np.zeros(hashes.size + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            np.cumsum(hashes * pw, out=out[1:])
        return out

    def ngrams(self, prefix: np.ndarray, n: int) -> np.ndarray:
        """Hash of the n words starting at each position (empty if fewer than n words)."""
        count = prefix.size - n
        if count <= 0:
            return np.empty(0, dtype=np.uint64)
        _, inv = self._powers(count)
        with np.errstate(over="ignore"):
            return (prefix[n:] - prefix[:count]) * inv

    def of(self, hashes: np.ndarray, n: int) -> np.ndarray:
        return self.ngrams(self.prefix(hashes), n)
