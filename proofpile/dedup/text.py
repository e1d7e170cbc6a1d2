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
from collections.abc import Sequence

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


# -- the same words, hashed without building them -----------------------------------------------------------------

_ASCII_CLASS = np.array([1 if chr(c).isalnum() or c == 95 else 2 if chr(c).isspace() else 0 for c in range(128)],
                        dtype=np.uint8)  # 1: word character (regex \w), 2: space (\s), 0: any other (one-char word)
_CP_PRIME = np.uint64(0x100000001B3)  # odd: invertible modulo 2**64


class _Powers:
    """``P**k`` and ``P**-k`` modulo 2**64 for k < n, grown on demand (a polynomial hash of any slice from two
    prefix sums)."""

    def __init__(self):
        self.pow = self.inv = np.ones(1, dtype=np.uint64)

    def upto(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.pow) < n:
            size = max(n, 2 * len(self.pow))
            inverse = np.uint64(pow(int(_CP_PRIME), -1, 1 << 64))
            one = np.ones(1, dtype=np.uint64)
            with np.errstate(over="ignore"):
                self.pow = np.concatenate((one, np.cumprod(np.full(size - 1, _CP_PRIME, dtype=np.uint64))))
                self.inv = np.concatenate((one, np.cumprod(np.full(size - 1, inverse, dtype=np.uint64))))
        return self.pow, self.inv


_POWERS = _Powers()


def fast_word_hashes(text: str, seed: int = 0) -> np.ndarray:
    """uint64 hash of every word of ``words(text)``, in order (``batch_word_hashes`` of one text)."""
    return batch_word_hashes([text], [seed])[0]


def batch_word_hashes(texts: Sequence[str], seeds: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The hash of every word of ``words(text)`` of each text (seeded by its seed), computed on the code points of
    all the texts at once with numpy, and where each text's words start (``len(texts) + 1`` offsets).

    The words' boundaries are those of ``WORD_PATTERN`` (regex ``\\w`` is ``str.isalnum()`` or ``_``, ``\\s`` is
    ``str.isspace()``), a word's hash a polynomial of its code points (from prefix sums, so it does not depend on
    where the word is) through ``fmix64``. The texts are joined by a space, which ends any word: no string is built
    per word and no array work is done per text (~10x faster than ``WordHashes.of(words(text))`` a text at a time,
    with other hash values)."""
    normalized = [normalize(t) for t in texts]
    cps = np.frombuffer(" ".join(normalized).encode("utf-32-le"), dtype=np.uint32)
    text_starts = np.cumsum([0] + [len(t) + 1 for t in normalized])  # a text's first code point (and the end + 1)
    kind = np.take(_ASCII_CLASS, np.minimum(cps, 127))
    high = cps >= 128
    if high.any():
        values = np.unique(cps[high])
        classes = np.array([1 if chr(c).isalnum() else 2 if chr(c).isspace() else 0 for c in values.tolist()],
                           dtype=np.uint8)
        kind[high] = classes[np.searchsorted(values, cps[high])]
    word = kind == 1
    other = kind == 0
    # a word starts where a run of word characters starts, or at any other character (a one-character word)
    first, last = word.copy(), word.copy()
    first[1:] &= ~word[:-1]
    last[:-1] &= ~word[1:]
    starts, ends = np.flatnonzero(first | other), np.flatnonzero(last | other) + 1
    offsets = np.searchsorted(starts, text_starts)
    word_seeds = np.repeat(np.asarray(seeds, dtype=np.uint64), np.diff(offsets))
    powers, inverses = _POWERS.upto(len(cps) + 1)
    with np.errstate(over="ignore"):
        prefix = np.concatenate(([np.uint64(0)], np.cumsum((cps.astype(np.uint64) + np.uint64(1)) * powers[:len(cps)])))
        h = (prefix[ends] - prefix[starts]) * inverses[starts]
        h += word_seeds * PRIME + (ends - starts).astype(np.uint64)
        return fmix64(h), offsets


def batch_ngram_hashes(hashes: np.ndarray, offsets: np.ndarray, n: int, short: bool = False
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``ngram_hashes`` of each text's words (``hashes``, ``offsets`` as ``batch_word_hashes`` returns them), all
    at once: the n-gram hashes of every text in order, and where each text's start."""
    lengths = np.diff(offsets)
    counts = np.maximum(lengths - n + 1, 0)
    short_texts = np.flatnonzero((lengths > 0) & (lengths < n)) if short else np.empty(0, dtype=np.intp)
    counts[short_texts] = 1
    out_offsets = np.concatenate(([0], np.cumsum(counts)))
    # output j of text t is the window starting at word offsets[t] + (j - out_offsets[t]); windows of the joined
    # words that span two texts are never picked
    source = np.arange(out_offsets[-1]) - np.repeat(out_offsets[:-1] - offsets[:-1], counts)
    out = np.empty(out_offsets[-1], dtype=np.uint64)
    windows = np.ones(len(out), dtype=bool)
    windows[out_offsets[short_texts]] = False
    out[windows] = ngram_hashes(hashes, n)[source[windows]]
    for t in short_texts.tolist():  # fewer than n words: one n-gram of them all
        out[out_offsets[t]] = ngram_hashes(hashes[offsets[t]:offsets[t + 1]], n, short=True)[0]
    return out, out_offsets
