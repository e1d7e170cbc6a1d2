"""Normalised words and hashed n-grams, shared by near-dedup (MinHash shingles) and decontamination.

Normalisation is safe for math and code: text is NFKC-normalised and lowercased, and split into runs of
letters/digits and single punctuation/operator characters (``\\frac`` is ``\\``, ``frac``). Nothing is removed --
unlike datatrove's ``simplify_text``, which maps every number to ``0`` and strips punctuation, so that ``$2x+3=7$``
and ``$2x-5=9$`` would look alike.

Words are hashed once each (xxh3, memoised across documents) and n-grams are combined from the word hashes with
vectorised uint64 arithmetic, so no n-gram string is ever built. One compiled regex replaces datatrove's spaCy
word tokenizer, which spends most of MinHash's time and is not installed here.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from xxhash import xxh3_64_intdigest

# a run of letters/digits/underscore, or any other single non-space character (so "\\frac" is "\\", "frac")
WORD_PATTERN = re.compile(r"\w+|[^\w\s]")

PRIME = np.uint64(0x9E3779B97F4A7C15)  # odd multiplier of the polynomial that combines word hashes
_M1 = np.uint64(0xFF51AFD7ED558CCD)  # murmur3 fmix64 constants
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def words(text: str) -> list[str]:
    """Normalised words of a text: lowercase, whitespace-collapsed, punctuation separated (kept, not removed)."""
    return WORD_PATTERN.findall(normalize(text))


def word_hashes(tokens: list[str], seed: int = 0) -> np.ndarray:
    return np.fromiter((xxh3_64_intdigest(t, seed) for t in tokens), dtype=np.uint64, count=len(tokens))


class WordHashes(dict):
    """A memo of word -> xxh3 hash: words repeat (Zipf), so most lookups are a dict hit done in C by ``map``."""

    def __init__(self, seed: int = 0, max_size: int = 1 << 21):
        super().__init__()
        self.seed, self.max_size = seed, max_size

    def __missing__(self, word: str) -> int:
        if len(self) >= self.max_size:
            self.clear()
        value = self[word] = xxh3_64_intdigest(word, self.seed)
        return value

    def of(self, tokens: list[str]) -> np.ndarray:
        return np.fromiter(map(self.__getitem__, tokens), dtype=np.uint64, count=len(tokens))


def fmix64(h: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser: spreads every input bit over the output (vectorised, in place on a copy)."""
    h = h ^ (h >> _S33)
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


def ngram_hashes(hashes: np.ndarray, n: int, short: bool = False) -> np.ndarray:
    """uint64 hash of every window of ``n`` consecutive word hashes (order-sensitive).

    A sequence shorter than ``n`` yields no n-gram, or with ``short=True`` one n-gram of the whole sequence (so that
    short documents still get a MinHash signature)."""
    count = len(hashes) - n + 1
    if count <= 0:
        if not short or len(hashes) == 0:
            return np.empty(0, dtype=np.uint64)
        n, count = len(hashes), 1
    with np.errstate(over="ignore"):
        acc = hashes[:count].copy()
        for k in range(1, n):
            acc *= PRIME
            acc += hashes[k : k + count]
        return fmix64(acc)


def text_ngram_hashes(text: str, n: int, seed: int = 0, short: bool = False) -> np.ndarray:
    return ngram_hashes(word_hashes(words(text), seed), n, short=short)
