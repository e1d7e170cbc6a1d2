"""Words for decontamination, and hashes of their n-grams for any n -- for many documents at once, in numpy.

A word is a run of letters or digits, a TeX command (``\\frac``), or either of those written as a superscript or
subscript (``^2``, ``_{2}`` -> ``^2``, ``_2``: ``x^2`` and ``x_2`` stay apart). Punctuation, braces, ``$`` and
spacing are not words, so a 13-gram is thirteen real words, and reflowed or re-spaced text reads the same. Text is
lowercased (NFKC first when not ASCII). TeX spellings that do not change the formula -- ``\\left``/``\\right``,
``\\dfrac`` for ``\\frac``, ``\\text{}`` wrappers -- are read as one (``filters/decontam/tex-variants.yaml``).

No Python code runs per word: a batch of documents is one UTF-8 byte array; a byte table says which bytes are in
words and which start one (``\\ ^ _``), and a word starts where a word byte follows a separator or at ``\\ ^ _``
(one comparison of the byte classes with their predecessors); a word's hash is a window of a polynomial hash over
the bytes, where separators weigh nothing, so a word's window runs to the next word's start (no search for word
ends), and an n-gram's a window of a polynomial hash over the word hashes. A window hash comes from one prefix sum: the hash of
the n items at ``i`` is ``(S[i+n] - S[i]) * R^-i`` (mod 2^64), ``S`` the prefix sums of ``h[j] * R^j``, so every n
costs two vector operations, and n-grams of several sizes cost little more than one.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import numpy as np
import yaml

TEX_VARIANTS = Path(__file__).resolve().parents[2] / "filters" / "decontam" / "tex-variants.yaml"

# Unicode punctuation (ASCII punctuation is handled by the byte table)
_UNICODE_PUNCTUATION = str.maketrans(dict.fromkeys("‘’‚“”„–—―…•·′″‹›«»¿¡§¶†‡°±×÷", " "))
_R = np.uint64(0x9E3779B97F4A7C15)  # odd, so invertible mod 2^64
_R_INV = np.uint64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))
_B = np.uint64(0xD6E8FEB86659FD93)  # another odd multiplier, for bytes within a word
_B_INV = np.uint64(pow(0xD6E8FEB86659FD93, -1, 1 << 64))
_M1, _M2, _S33 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)
_TOP16 = np.uint64(48)
_SEPARATOR, _IN_WORD, _STARTS_WORD = 0, 1, 2
_BYTE_CLASS = np.zeros(256, dtype=np.uint8)
for _c in range(256):
    if _c >= 0x80 or chr(_c).isalnum():
        _BYTE_CLASS[_c] = _IN_WORD  # non-ASCII: parts of UTF-8 letters (Unicode punctuation is replaced first)
    elif chr(_c) in "\\^_":
        _BYTE_CLASS[_c] = _STARTS_WORD
_BYTE_WEIGHT = np.where(_BYTE_CLASS != _SEPARATOR, np.arange(256), 0).astype(np.uint8)  # a separator adds nothing


class Powers:
    """x^0..x^(m-1) and their inverses mod 2^64, grown on demand."""

    def __init__(self, x: np.uint64, x_inv: np.uint64):
        self.x, self.x_inv = x, x_inv
        self._tables = (np.ones(1, dtype=np.uint64),) * 2  # (powers, inverses), replaced together

    def get(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        pw, inv = self._tables
        if pw.size < m:
            size = max(m, 2 * pw.size)
            # (array arithmetic on uint64 wraps mod 2^64 silently, which is what a polynomial hash wants)
            pw = np.cumprod(np.full(size, self.x, dtype=np.uint64)) * self.x_inv
            inv = np.cumprod(np.full(size, self.x_inv, dtype=np.uint64)) * self.x
            self._tables = (pw, inv)
        return pw[:m], inv[:m]


# shared by every hasher of a process: a step built per task would otherwise regrow them batch after batch
_BYTE_POWERS, _WORD_POWERS = Powers(_B, _B_INV), Powers(_R, _R_INV)


def _fmix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> _S33)
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    return h ^ (h >> _S33)


_SPACE, _OPEN, _CARET, _UNDERSCORE = (np.uint8(ord(c)) for c in " {^_")
_CLASS_TABLE, _WEIGHT_TABLE = _BYTE_CLASS.tobytes(), _BYTE_WEIGHT.tobytes()  # for bytes.translate: one C pass


def _attach_scripts(buf: bytes) -> bytes:
    """The bytes without the space after ``{``, ``^`` or ``_`` and the ``{`` after ``^`` or ``_`` (once spaces are
    gone): ``x^ { 2}`` -> ``x^2}``. The same as ``.replace("{ ", "{").replace("^ ", "^").replace("_ ", "_")
    .replace("^{", "^").replace("_{", "_")``, as masks (a deleted byte never makes a new pair: it follows one of
    ``{^_``, which are never deleted, so the byte before a kept byte is at most two back)."""
    if b"^" not in buf and b"_" not in buf:
        return buf  # a space after "{" alone separates nothing that was not separated
    a = np.frombuffer(buf, dtype=np.uint8)
    before = np.empty_like(a)
    before[0], before[1:] = 0, a[:-1]
    script_before = (before == _CARET) | (before == _UNDERSCORE)
    dropped_space = (a == _SPACE) & (script_before | (before == _OPEN))
    script_two_before = np.zeros_like(script_before)
    script_two_before[1:] = script_before[:-1] & dropped_space[:-1]  # "^ {": the space between is gone
    dropped_open = (a == _OPEN) & (script_before | script_two_before)
    return a[~(dropped_space | dropped_open)].tobytes()


def _separators(buf: bytes, count: int) -> list[int] | None:
    """Where the ``count`` NULs of ``buf`` are (``bytes.find``: a memchr per text); None if it holds more."""
    found, at = [], -1
    for _ in range(count):
        at = buf.find(b"\0", at + 1)
        if at < 0:
            return None
        found.append(at)
    return found if buf.find(b"\0", at + 1) < 0 else None


def normalize(text: str) -> str:
    return text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).lower()


@cache
def tex_variants(path: str = str(TEX_VARIANTS)) -> tuple[frozenset, dict]:
    data = yaml.safe_load(Path(path).read_text())
    return frozenset(data["drop"]), dict(data["same"])


def _word_starts(cls: np.ndarray) -> np.ndarray:
    """Where words start, from the byte classes: a word byte after a separator, or ``\\ ^ _`` anywhere (the
    class ``_STARTS_WORD`` is above both ``False`` and ``True``, ``_IN_WORD`` only above ``False``)."""
    starts = np.empty(cls.size, dtype=bool)
    if cls.size:
        starts[0] = cls[0] != _SEPARATOR
        np.greater(cls[1:], cls[:-1] != _SEPARATOR, out=starts[1:])
    return np.flatnonzero(starts)


class Batch:
    """The words of a batch of texts: ``hashes`` (kept words, all texts in order) and, per text ``t``, its words
    ``hashes[first[t]:first[t + 1]]``; ``span(a, b)`` is the normalised text from kept word a to word b."""

    def __init__(self, buf: bytes, hashes: np.ndarray, first: np.ndarray, starts: np.ndarray):
        self.buf, self.hashes, self.first, self.starts = buf, hashes, first, starts

    def end(self, b: int) -> int:
        """Where kept word b ends (found only for the few spans shown: the hot path never needs it)."""
        end = int(self.starts[b]) + 1
        while end < len(self.buf) and _BYTE_CLASS[self.buf[end]] == _IN_WORD:
            end += 1
        return end

    def span(self, a: int, b: int) -> str:
        return self.buf[self.starts[a]: self.end(b)].decode("utf-8", errors="replace")

    def words(self, t: int) -> list[str]:
        return [self.span(i, i) for i in range(self.first[t], self.first[t + 1])]


class WordHasher:
    """Hashes of the words of many texts at once (see the module doc)."""

    def __init__(self, variants: str = str(TEX_VARIANTS)):
        self._bytes = _BYTE_POWERS
        drop, same = tex_variants(variants)
        names = sorted(drop | {"\\"} | set(same))
        got = self._word_hashes([n.encode() for n in names])
        if got.size != len(names):
            raise ValueError(f"{variants}: every entry must be one word (a TeX command), got {names}")
        to = [0 if n in drop or n == "\\" else self._word_hashes([same[n].encode()])[0] for n in names]
        order = np.argsort(got)
        self._from = got[order]
        self._to = np.array(to, dtype=np.uint64)[order]
        self._variant_present = np.zeros(1 << 16, dtype=bool)  # top 16 bits of a variant's hash
        self._variant_present[self._from >> _TOP16] = True

    def _word_hashes(self, words: list[bytes]) -> np.ndarray:
        """Hashes of whole words (for the variant table)."""
        return self._hash_words(b" ".join(words))[0]

    def _hash_words(self, buf: bytes) -> tuple[np.ndarray, np.ndarray]:
        """(hash of every word of ``buf``, where each starts)."""
        starts = _word_starts(np.frombuffer(buf.translate(_CLASS_TABLE), dtype=np.uint8))
        if not starts.size:
            return np.empty(0, np.uint64), starts
        size = len(buf)
        pw, inv = self._bytes.get(size + 1)
        prefix = np.empty(size + 1, dtype=np.uint64)
        prefix[0], terms = 0, prefix[1:]
        # (in place: these are the hot path's largest arrays; a cast, then a same-type product, beats a mixed one)
        terms[:] = np.frombuffer(buf.translate(_WEIGHT_TABLE), dtype=np.uint8)
        terms *= pw[:size]
        np.cumsum(terms, out=terms)
        # separators weigh nothing: a word's window may run up to the next word's start
        at = prefix[np.append(starts, size)]
        hashes = np.subtract(at[1:], at[:-1], out=at[:-1])
        hashes *= inv[starts]
        return _fmix(hashes) | np.uint64(1), starts  # never 0: 0 marks a dropped word

    def batch(self, texts: list[str]) -> Batch:
        # one string for the whole batch, texts separated by NUL (a separator byte, never deleted): each
        # normalisation below is one C-level pass, not one per text
        buf = _attach_scripts(self._joined(texts))
        nuls = _separators(buf, len(texts) - 1)
        if nuls is None:  # a NUL inside a text: replaced by a space, then as above
            buf = _attach_scripts(self._joined([t.replace("\0", " ") for t in texts]))
            nuls = _separators(buf, len(texts) - 1)
        hashes, starts = self._hash_words(buf)
        maybe = np.flatnonzero(self._variant_present[hashes >> _TOP16]) if hashes.size else hashes
        if maybe.size:
            at = np.minimum(np.searchsorted(self._from, hashes[maybe]), self._from.size - 1)
            variant = self._from[at] == hashes[maybe]
            if variant.any():
                hashes[maybe[variant]] = self._to[at[variant]]
                keep = hashes != 0
                hashes, starts = hashes[keep], starts[keep]
        text_starts = np.array([0] + [p + 1 for p in nuls], dtype=np.int64)[: len(texts)]
        first = np.append(np.searchsorted(starts, text_starts), starts.size).astype(np.int64)
        return Batch(buf, hashes, first, starts)

    @staticmethod
    def _joined(texts: list[str]) -> bytes:
        joined = normalize("\0".join(texts))
        if not joined.isascii():
            joined = joined.translate(_UNICODE_PUNCTUATION)
        return joined.encode("utf-8")

    def hashes(self, text: str) -> np.ndarray:
        return self.batch([text]).hashes

    def words(self, text: str) -> list[str]:
        """The normalised words of a text as strings (for tests and the index; the hot path never builds them)."""
        return self.batch([text]).words(0)


class NgramHasher:
    """Hashes of every n-gram of a word-hash sequence, for several n from one prefix sum."""

    def __init__(self):
        self._powers = _WORD_POWERS

    def prefix(self, hashes: np.ndarray) -> np.ndarray:
        pw, _ = self._powers.get(hashes.size)
        out = np.zeros(hashes.size + 1, dtype=np.uint64)
        np.cumsum(hashes * pw, out=out[1:])
        return out

    def ngrams(self, prefix: np.ndarray, n: int) -> np.ndarray:
        """Hash of the n words starting at each position (empty if fewer than n words)."""
        count = prefix.size - n
        if count <= 0:
            return np.empty(0, dtype=np.uint64)
        _, inv = self._powers.get(count)
        return (prefix[n:] - prefix[:count]) * inv

    def at(self, prefix: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Hashes of the n-grams at ``starts`` with their own ``lengths`` (all within the sequence)."""
        _, inv = self._powers.get(prefix.size)
        return (prefix[starts + lengths] - prefix[starts]) * inv[starts]

    def of(self, hashes: np.ndarray, n: int) -> np.ndarray:
        return self.ngrams(self.prefix(hashes), n)
