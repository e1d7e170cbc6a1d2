"""n-gram decontamination: an index of the benchmark items' word n-grams, and a filter that drops a document
sharing one with any item.

Adapted from datatrove's ``pipeline/decont/n_grams.py`` (index of uint64 n-gram hashes + a BaseFilter), with:
math-safe words (``proofpile.dedup.text``: lowercase, whitespace-collapsed, punctuation separated and kept,
numbers kept) instead of spaCy words with numbers zeroed; vectorised hashing and lookup (a sorted hash array and
``searchsorted``); two n-gram sizes -- ``n`` (13) decides removal, ``report_n`` (30, as in the Llemma paper) is
recorded for the report -- and, for every hit, which benchmark item it came from.
"""

from __future__ import annotations

import json

import numpy as np
import orjson
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.filters.base_filter import BaseFilter

from proofpile.decontam.benchmarks import Benchmark, load_items
from proofpile.dedup.text import WordHashes, ngram_hashes, word_hashes, words

MAX_ITEMS_PER_DOC = 20  # hits recorded per document and n (a document copying a whole test set is one line)


def build_index(benchmarks: list[Benchmark], sizes: list[int], folder: DataFolderLike) -> dict:
    """Writes ``items.json`` and, per n, ``ngrams-<n>.hashes.npy`` (sorted uint64) with ``ngrams-<n>.items.npy``
    (the item each hash came from). Returns a summary per benchmark."""
    folder = get_datafolder(folder)
    items, summary = [], {}
    for bench in benchmarks:
        loaded, incomplete = load_items(bench)
        summary[bench.name] = {"items": len(loaded), "incomplete_items": incomplete, "fields": list(bench.fields)}
        for item in loaded:
            items.append({"benchmark": bench.name, **item})
    fields = [(k, item["benchmark"], word_hashes(words(item[field])))
              for k, item in enumerate(items) for field in summary[item["benchmark"]]["fields"] if field in item]
    for n in sizes:
        hashes, owners, short = [], [], dict.fromkeys(summary, 0)
        for k, bench, token_hashes in fields:
            h = ngram_hashes(token_hashes, n)
            short[bench] += h.size == 0
            hashes.append(h)
            owners.append(np.full(h.size, k, dtype=np.uint32))
        hashes = np.concatenate(hashes) if hashes else np.empty(0, np.uint64)
        owners = np.concatenate(owners) if owners else np.empty(0, np.uint32)
        order = np.lexsort((owners, hashes))
        for name, arr in (("hashes", hashes[order]), ("items", owners[order])):
            with folder.open(f"ngrams-{n}.{name}.npy", "wb") as f:
                np.save(f, arr)
        names = list(summary)
        bench_of_item = np.array([names.index(it["benchmark"]) for it in items], dtype=np.int64)
        counts = np.bincount(bench_of_item[owners], minlength=len(names)) if owners.size else [0] * len(names)
        for name, count in zip(names, counts):
            summary[name].setdefault("ngrams", {})[n] = int(count)
            summary[name].setdefault("fields_shorter_than_n", {})[n] = int(short[name])
    with folder.open("items.json", "wb") as f:
        f.write(orjson.dumps(items))
    return summary


class _Lookup:
    """Sorted index hashes, with a bitmap of their low 27 bits (16 MB) in front: most document n-grams are not in
    the index, and one vectorised bitmap probe rejects them ~10x faster than a binary search would."""

    BITS = 27

    def __init__(self, hashes: np.ndarray, items: np.ndarray):
        self.hashes, self.items = hashes, items
        self.mask = np.uint64((1 << self.BITS) - 1)
        self.bitmap = np.zeros(1 << (self.BITS - 3), dtype=np.uint8)
        low = hashes & self.mask
        np.bitwise_or.at(self.bitmap, (low >> np.uint64(3)).astype(np.int64),
                         np.left_shift(1, (low & np.uint64(7)).astype(np.uint8)).astype(np.uint8))

    def hits(self, doc_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in the document, index of the first matching entry) of the document n-grams in the index."""
        if self.hashes.size == 0 or doc_hashes.size == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        low = doc_hashes & self.mask
        maybe = (self.bitmap[(low >> np.uint64(3)).astype(np.int64)] >> (low & np.uint64(7)).astype(np.uint8)) & 1
        candidates = np.flatnonzero(maybe)
        if candidates.size == 0:
            return candidates, candidates
        at = np.searchsorted(self.hashes, doc_hashes[candidates])
        found = self.hashes[np.minimum(at, self.hashes.size - 1)] == doc_hashes[candidates]
        return candidates[found], at[found]

    def items_at(self, first: int, h) -> list[int]:
        end = first
        while end < self.hashes.size and self.hashes[end] == h:
            end += 1
        return self.items[first:end].tolist()


class NGramDecontamination(BaseFilter):
    """Drops a document that shares an ``n``-gram with a benchmark item (reason ``contaminated_<benchmark>``);
    writes every hit (at ``n`` and at ``report_n``) to ``hits_folder/<rank>.jsonl`` for the stage's report."""

    name = "🦠 n-gram decontamination"

    def __init__(self, index_folder: DataFolderLike, hits_folder: DataFolderLike, n: int = 13,
                 report_n: int | None = 30):
        super().__init__()
        self.index_folder = get_datafolder(index_folder)
        self.hits_folder = get_datafolder(hits_folder)
        self.n, self.report_n = n, report_n
        self._lookups = None
        self._items = None
        self._word_hashes = WordHashes()
        self._hits_file = None

    def _load(self):
        with self.index_folder.open("items.json", "rb") as f:
            self._items = [(it["benchmark"], it["index"]) for it in orjson.loads(f.read())]
        self._lookups = {}
        for n in filter(None, {self.n, self.report_n}):
            arrays = []
            for name in ("hashes", "items"):
                with self.index_folder.open(f"ngrams-{n}.{name}.npy", "rb") as f:
                    arrays.append(np.load(f))
            self._lookups[n] = _Lookup(*arrays)

    def _record(self, doc: Document, n: int, tokens: list[str], hashes: np.ndarray) -> set[str]:
        lookup = self._lookups[n]
        positions, firsts = lookup.hits(hashes)
        seen: dict[int, int] = {}  # item -> first position in the document
        for pos, first in zip(positions.tolist(), firsts.tolist()):
            for k in lookup.items_at(first, hashes[pos]):
                seen.setdefault(k, pos)
            if len(seen) >= MAX_ITEMS_PER_DOC:
                break
        for k, pos in sorted(seen.items()):
            bench, index = self._items[k]
            self._hits_file.write(orjson.dumps({
                "n": n, "benchmark": bench, "item": index, "doc_id": doc.id,
                "subset": doc.metadata.get("subset"), "ngram": " ".join(tokens[pos : pos + n]),
            }, option=orjson.OPT_APPEND_NEWLINE))
        return {self._items[k][0] for k in seen}

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        if self._lookups is None:
            self._load()
        tokens = words(doc.text)
        token_hashes = self._word_hashes.of(tokens)
        if self.report_n and self.report_n != self.n:
            self._record(doc, self.report_n, tokens, ngram_hashes(token_hashes, self.report_n))
        benches = self._record(doc, self.n, tokens, ngram_hashes(token_hashes, self.n))
        if not benches:
            return True
        for bench in sorted(benches)[1:]:
            self.stat_update(f"also_contaminated_{bench}")
        return False, f"contaminated_{sorted(benches)[0]}"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self.hits_folder.open(f"{rank:05d}.jsonl", "wb") as self._hits_file:
            yield from super().run(data if data is not None else iter(()), rank, world_size)
        self._hits_file = None


def read_hits(folder: DataFolderLike) -> list[dict]:
    folder = get_datafolder(folder)
    hits = []
    for name in sorted(folder.list_files(glob_pattern="*.jsonl")):
        with folder.open(name, "rb") as f:
            hits += [json.loads(line) for line in f if line.strip()]
    return hits
