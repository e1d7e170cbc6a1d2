"""n-gram decontamination: an index of what identifies each benchmark item, and a step that flags a document
holding enough of one item.

The idea is datatrove's ``pipeline/decont/n_grams.py`` (hashed n-grams of the items, looked up per document), made
precise for web math (``proofpile.decontam.words``: words, not punctuation; TeX spelling variants read as one):

- what is indexed: the n-grams of an item's *problem*, and the n-grams that span the end of the problem and its
  answer (datatrove's ``find_overlap_ngrams``: the answer of a MATH solution's ``\\boxed{}``, of GSM8K's
  ``#### N``). A problem shorter than ``n`` words is indexed whole. Solutions are not indexed for removal: their
  steps (the quadratic formula, ``\\frac{\\sqrt3}{2}``) are shared by any text doing the same algebra;
- what is ignored: an n-gram that occurs in more than ``max_items_per_ngram`` items, or in ``reference_min_docs``
  documents of a clean reference corpus (template phrases like "what is the value of");
- the decision, per (document, item): the share of the item's n-grams found in the document, and the longest run
  of matching words. One shared n-gram is not enough;
- the Llemma paper's check -- 30-grams of problems and solutions -- is computed only for documents that share a
  13-gram with a problem or a solution, and reported, never acted on.

Every flagged (document, item) pair is written as one JSON line to ``hits_folder/<rank>.jsonl`` as it is found
(benchmark, item, share, longest match, the matched span; ``proofpile.decontam.tier``): the report streams these
files.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import orjson
from datatrove.data import Document
from datatrove.io import DataFolderLike, get_datafolder

from proofpile.atomic import atomic_write
from proofpile.cache import cache_dir, mark_used, prune
from proofpile.decontam.benchmarks import Benchmark, load_items, local_path
from proofpile.decontam.tier import DecontaminationTier
from proofpile.decontam.words import TEX_VARIANTS, NgramHasher, WordHasher
from proofpile.scratch import scratch_folder
from proofpile.stats import add_counts

PROBLEM, SPANNING, SOLUTION = 1, 2, 4  # what an index n-gram came from (bit flags)
ITEMS_FILE = "items.json"  # next to one <array>.npy per index array (np.load reads them without a zip's CRC pass)
SUMMARY_FILE = "summary.json"  # of a cached index (ensure_index), written last
SPAN_CHARS = 300  # of a matched span kept in a hit record
# a document's n-grams are looked up only if one of its (n - PROBE_STRIDE + 1)-grams at every PROBE_STRIDE-th word
# is in an item: a quarter of the lookups in a table that fits the cache, for the few documents that pass them all
PROBE_STRIDE = 4

_BOXED = re.compile(r"\\boxed\s*\{")
# drawing code in a problem (MATH's Asymptote figures) is shared boilerplate, not what the problem says
_FIGURE = re.compile(r"\[asy\].*?(?:\[/asy\]|$)", re.DOTALL)
_DIGIT = re.compile(r"\d")


def final_answer(solution: str) -> str:
    """The answer a solution ends on: GSM8K's ``#### N``, else the last ``\\boxed{...}``; "" if neither."""
    if "####" in solution:
        return solution.rsplit("####", 1)[1].strip()
    starts = [m.end() for m in _BOXED.finditer(solution)]
    if not starts:
        return ""
    depth, start = 1, starts[-1]
    for i in range(start, len(solution)):
        depth += {"{": 1, "}": -1}.get(solution[i], 0)
        if depth == 0:
            return solution[start:i]
    return ""


class _Table:
    """Sorted unique n-gram hashes -> the items (CSR) holding each, with a presence map of their top bits in
    front: most document n-grams are in no item, and one vectorised lookup rejects them. The map has
    ~2^``extra_bits`` entries per hash (at most 2^25; the share of absent n-grams it lets through is about
    2^-extra_bits): a small table's map stays in the cache. Built on first use: a table a task never probes
    costs nothing."""

    def __init__(self, hashes: np.ndarray, offsets: np.ndarray | None = None, items: np.ndarray | None = None,
                 extra_bits: int = 6):
        self.hashes, self.offsets, self.items = hashes, offsets, items
        self.bits = min(25, max(10, int(hashes.size).bit_length() + extra_bits))
        self.shift = np.uint64(64 - self.bits)
        self._present = None

    @property
    def present(self) -> np.ndarray:
        if self._present is None:
            self._present = np.zeros(1 << self.bits, dtype=bool)
            self._present[self.hashes >> self.shift] = True
        return self._present

    @classmethod
    def build(cls, hashes: np.ndarray, items: np.ndarray) -> _Table:
        """From (hash, item) pairs, duplicates allowed."""
        pairs = np.unique(np.stack([hashes, items.astype(np.uint64)]), axis=1) if hashes.size else np.empty((2, 0),
                                                                                                             np.uint64)
        unique, starts = np.unique(pairs[0], return_index=True)
        offsets = np.append(starts, pairs.shape[1]).astype(np.int64)
        return cls(unique, offsets, pairs[1].astype(np.uint32))

    def find(self, doc_hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in the document, table entries) of the document's n-grams that are in the table."""
        if self.hashes.size == 0 or doc_hashes.size == 0:
            return np.empty(0, np.intp), np.empty(0, np.intp)
        candidates = np.flatnonzero(self.present[doc_hashes >> self.shift])
        if candidates.size == 0:
            return candidates, candidates
        at = np.minimum(np.searchsorted(self.hashes, doc_hashes[candidates]), self.hashes.size - 1)
        found = self.hashes[at] == doc_hashes[candidates]
        return candidates[found], at[found]

    def expand(self, positions: np.ndarray, entries: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position, entry, item) for every item of every found entry."""
        counts = self.offsets[entries + 1] - self.offsets[entries]
        rows = np.repeat(np.arange(entries.size), counts)
        first = np.repeat(self.offsets[entries], counts)
        within = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
        return positions[rows], entries[rows], self.items[first + within].astype(np.int64)


def _windows(first: np.ndarray, texts: np.ndarray, n: int) -> np.ndarray:
    """The start of every n-word window inside the given texts (``first``: where each text's words start)."""
    starts = first[texts]
    counts = np.maximum(first[texts + 1] - starts - n + 1, 0)
    return np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())


# -- the index ---------------------------------------------------------------------------------------------------
def _reference_texts(paths: Iterable[str]) -> Iterable[str]:
    """Texts of a clean reference corpus: contract shards / JSON lines (field ``text``) or plain text files."""
    from proofpile.contract import ContractReader

    for path in paths:
        if path.endswith((".jsonl", ".jsonl.zst", ".jsonl.gz")):
            folder, _, name = path.rpartition("/")
            for doc in ContractReader(folder or ".", glob_pattern=name).run():
                yield doc.text
        else:
            with open(path, encoding="utf-8", errors="replace") as f:
                yield f.read()


def build_index(benchmarks: list[Benchmark], folder: DataFolderLike, n: int = 13, report_n: int | None = 30,
                max_items_per_ngram: int = 2, min_item_words: int = 3, reference: list[str] = (),
                reference_min_docs: int = 2) -> dict:
    """Writes ``items.json`` (benchmark, index, problem and n-gram count of every item) and ``index.npz``.
    Returns a summary per benchmark."""
    folder = get_datafolder(folder)
    hasher, ngrams = WordHasher(), NgramHasher()
    items, summary = [], {}
    for bench in benchmarks:
        loaded, incomplete = load_items(bench)
        summary[bench.name] = {"items": len(loaded), "incomplete_items": incomplete, "fields": list(bench.fields)}
        items += [(bench, item) for item in loaded]

    word_hashes = hasher.hashes

    main_h, main_item, main_kind, short_h, short_item, short_len, report_h, report_item = ([] for _ in range(8))
    probe_n = n - min(PROBE_STRIDE, n) + 1
    probe_h = []
    short_whole = []
    records, main_num = [], []  # main_num: the n-gram holds a number (template siblings differ there)
    for k, (bench, item) in enumerate(items):
        problem_field, *solution_fields = bench.fields
        problem_text = _FIGURE.sub(" ", item.get(problem_field, ""))
        problem = word_hashes(problem_text)
        digits = np.cumsum([0] + [bool(_DIGIT.search(w)) for w in hasher.words(problem_text)])
        solutions = [word_hashes(item[f]) for f in solution_fields if f in item]
        answer = word_hashes(final_answer(item[solution_fields[-1]])) if solution_fields and solution_fields[-1] \
            in item else np.empty(0, np.uint64)
        if problem.size >= n:
            p = ngrams.of(problem, n)
            main_h.append(p), main_item.append(np.full(p.size, k)), main_kind.append(np.full(p.size, PROBLEM))
            main_num.append(digits[n:] - digits[:-n] > 0)
            probe_h.append(ngrams.of(problem, probe_n))
        elif problem.size >= min_item_words:
            # anchored on its first min_item_words words, confirmed on the whole (see NGramDecontamination.matches)
            short_h.append(ngrams.of(problem, min_item_words)[:1]), short_item.append(k)
            short_len.append(problem.size), short_whole.append(ngrams.of(problem, problem.size)[0])
        if answer.size and problem.size:
            joined = np.concatenate([problem[-(n - 1):], answer[: n - 1]])
            s = ngrams.of(joined, n)  # every window has a problem word and an answer word
            main_h.append(s), main_item.append(np.full(s.size, k)), main_kind.append(np.full(s.size, SPANNING))
            main_num.append(np.ones(s.size, bool))
            probe_h.append(ngrams.of(joined, probe_n))
        for sol in solutions:
            s = ngrams.of(sol, n)
            main_h.append(s), main_item.append(np.full(s.size, k)), main_kind.append(np.full(s.size, SOLUTION))
            main_num.append(np.zeros(s.size, bool))
        if report_n:
            for field in [problem, *solutions]:
                r = ngrams.of(field, report_n)
                report_h.append(r), report_item.append(np.full(r.size, k))
        records.append({"benchmark": bench.name, "index": item["index"], "problem": item.get(problem_field, ""),
                        "words": int(problem.size)})

    cat = lambda parts, dt: np.concatenate(parts).astype(dt) if parts else np.empty(0, dt)  # noqa: E731
    hashes, owner, kind = cat(main_h, np.uint64), cat(main_item, np.int64), cat(main_kind, np.uint8)
    num = cat(main_num, bool)
    # n-grams in many items are template text ("how many positive integers"), not any one item
    pairs = np.unique(np.stack([hashes, owner.astype(np.uint64)]), axis=1) if hashes.size else np.empty((2, 0))
    unique, per_hash = np.unique(pairs[0], return_counts=True)
    frequent = unique[per_hash > max_items_per_ngram]
    ignored = np.isin(hashes, frequent) & (kind != SOLUTION)
    summary_ignored_frequent = np.unique(hashes[ignored]).size
    if reference:
        seen = np.zeros(unique.size, dtype=np.int64)
        for text in _reference_texts(reference):
            doc = np.unique(ngrams.of(word_hashes(text), n))
            at = np.minimum(np.searchsorted(unique, doc), max(unique.size - 1, 0))
            if unique.size:
                seen[at[unique[at] == doc]] += 1
        common = unique[seen >= reference_min_docs]
        by_reference = np.isin(hashes, common) & (kind != SOLUTION) & ~ignored
        ignored |= by_reference
        summary_ignored_reference = np.unique(hashes[by_reference]).size
    else:
        summary_ignored_reference = 0
    kind = np.where(ignored, SOLUTION, kind)  # still a candidate for the 30-gram report, never decides
    deciding = kind != SOLUTION
    totals = np.zeros(len(items), dtype=np.int64)
    numeric_totals = np.zeros(len(items), dtype=np.int64)
    problem = deciding & (kind == PROBLEM)
    for counts, mask in ((totals, problem), (numeric_totals, problem & num)):
        if mask.any():
            per_item = np.unique(np.stack([hashes[mask], owner[mask].astype(np.uint64)]), axis=1)
            np.add.at(counts, per_item[1].astype(np.int64), 1)
    for k, record in enumerate(records):
        record["ngrams"], record["numeric_ngrams"] = int(totals[k]), int(numeric_totals[k])

    # the deciding table: problem and spanning n-grams not ignored, probed in the documents that hold one of their
    # shorter probe_n-grams at one of every PROBE_STRIDE positions (each n-gram window holds such a position's
    # probe_n-gram); the context table: every n-gram of a problem or solution, probed at every
    # (report_n - n + 1)-th position, which finds every document holding a report_n-gram of one (for the same
    # reason)
    decide = _Table.build(hashes[deciding], owner[deciding])
    short = _Table.build(cat(short_h, np.uint64), np.array(short_item, dtype=np.int64))
    report = _Table.build(cat(report_h, np.uint64), cat(report_item, np.int64))
    arrays = {"n": n, "report_n": report_n or 0, "anchor": min_item_words,
              "decide_hashes": decide.hashes, "decide_offsets": decide.offsets, "decide_items": decide.items,
              "decide_numeric": np.isin(decide.hashes, np.unique(hashes[num & deciding])),
              "item_ngrams": totals, "item_numeric_ngrams": numeric_totals,
              "context_hashes": np.unique(hashes), "probe_n": probe_n,
              "probe_hashes": np.unique(cat(probe_h, np.uint64)),
              "short_hashes": short.hashes, "short_offsets": short.offsets, "short_items": short.items,
              "short_lengths": np.array(short_len, dtype=np.int64),
              "short_whole": np.array(short_whole, dtype=np.uint64), "short_of": np.array(short_item, dtype=np.int64),
              "report_hashes": report.hashes, "report_offsets": report.offsets, "report_items": report.items}
    for name, array in arrays.items():
        with folder.open(f"{name}.npy", "wb") as f:
            np.save(f, np.asarray(array), allow_pickle=False)
    with folder.open(ITEMS_FILE, "wb") as f:
        f.write(orjson.dumps(records))
    for name in summary:
        recs = [r for r in records if r["benchmark"] == name]
        summary[name]["indexed_by_ngrams"] = sum(r["ngrams"] > 0 for r in recs)
        summary[name]["indexed_whole"] = sum(0 < r["words"] < n and r["words"] >= min_item_words for r in recs)
        summary[name]["not_indexed"] = summary[name]["items"] - summary[name]["indexed_by_ngrams"] - \
            summary[name]["indexed_whole"]
    summary["_ignored_ngrams"] = {"in_many_items": int(summary_ignored_frequent),
                                  "in_reference_corpus": int(summary_ignored_reference)}
    return summary


def index_digest(benchmarks: list[Benchmark], settings: dict) -> str:
    """What determines an index's bytes: the benchmark files and their fields, the reference corpus, the TeX
    variants, the settings, and the code that reads words and builds the index."""
    key = hashlib.sha256(orjson.dumps({"benchmarks": [[b.name, list(b.fields)] for b in benchmarks],
                                       "settings": settings}, option=orjson.OPT_SORT_KEYS))
    files = [local_path(b.path) for b in benchmarks] + list(settings.get("reference", ())) + [str(TEX_VARIANTS)]
    code = [Path(__file__), Path(__file__).with_name("words.py"), Path(__file__).with_name("benchmarks.py")]
    for path in [*files, *code]:
        key.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return key.hexdigest()


def ensure_index(benchmarks: list[Benchmark], fallback: str | os.PathLike, **settings) -> tuple[str, dict]:
    """(folder, summary) of the index ``build_index`` makes from these inputs and settings: built once per cache
    (``proofpile.cache``; keyed by ``index_digest``) and read from there by every run and task after; where the
    cache cannot be written, built in ``fallback``. Using it stamps it and prunes unused indexes (``proofpile.cache``)."""
    cached = cache_dir() / "decontam-index" / index_digest(benchmarks, settings)
    mark_used(cached)  # before it is looked at: another process pruning the cache meanwhile leaves it alone
    if not (cached / SUMMARY_FILE).is_file():
        try:
            with scratch_folder(cached) as work:
                summary = build_index(benchmarks, work, **settings)
                atomic_write(Path(work) / SUMMARY_FILE, orjson.dumps(summary))
                try:
                    os.replace(work, cached)  # a folder appears whole or not at all
                except OSError:
                    if not (cached / SUMMARY_FILE).is_file():
                        raise
                    # another process put the same index there meanwhile: theirs is used, this one removed
        except OSError:  # no writable cache: this run's own index
            return str(fallback), build_index(benchmarks, str(fallback), **settings)
    prune(cached.parent)  # indexes of other inputs or code versions, unused for a month
    return str(cached), orjson.loads((cached / SUMMARY_FILE).read_bytes())


def load_item_records(folder: DataFolderLike) -> list[dict]:
    """The indexed items: benchmark, index, problem and n-gram counts of each."""
    with get_datafolder(folder).open(ITEMS_FILE, "rb") as f:
        return orjson.loads(f.read())


def load_arrays(folder: DataFolderLike) -> dict[str, np.ndarray]:
    folder = get_datafolder(folder)
    arrays = {}
    for path in folder.list_files(glob_pattern="*.npy"):
        with folder.open(path, "rb") as f:
            arrays[path.removesuffix(".npy")] = np.load(f, allow_pickle=False)
    return arrays


# -- the step ----------------------------------------------------------------------------------------------------
class NGramDecontamination(DecontaminationTier):
    """Flags a document that holds a benchmark item: at least ``min_share`` of the item's n-grams, or a run of
    ``min_match_words`` matching words, or a short item whole. Per subset, ``actions`` says ``drop`` (the default
    ``action``; reason ``contaminated_<benchmark>``) or ``report`` (kept, counted ``reported_<benchmark>``).
    Counters per subset: ``checked/<subset>``, ``flagged/<subset>/<benchmark>``, ``llemma30/<subset>/<benchmark>``."""

    name = "🦠 n-gram decontamination"

    def __init__(self, index_folder: DataFolderLike, hits_folder: DataFolderLike, min_share: float = 0.7,
                 min_match_words: int = 40, action: str = "drop", actions: dict[str, str] | None = None,
                 batch_size: int = 4096, batch_chars: int = 2_000_000):
        # a batch is one numpy pass: large enough that per-batch costs vanish, small enough (~2 MB of text, ~16 MB
        # per uint64 array over its bytes) that its arrays stay near the cache
        super().__init__(index_folder, hits_folder, action, actions, batch_size, batch_chars)
        self.min_share, self.min_match_words = min_share, min_match_words
        self._loaded = False
        self._item_records = None

    @property
    def _items(self) -> list[dict]:
        """The items' records (benchmark, index, problem): read when a hit is written, not per task."""
        if self._item_records is None:
            self._item_records = load_item_records(self.index_folder)
        return self._item_records

    def _load(self):
        arrays = load_arrays(self.index_folder)
        self.n, self.report_n = int(arrays["n"]), int(arrays["report_n"])
        self._decide = _Table(arrays["decide_hashes"], arrays["decide_offsets"], arrays["decide_items"])
        self._context = _Table(arrays["context_hashes"], extra_bits=2)  # probed at few positions
        self._probe, self._probe_n = _Table(arrays["probe_hashes"]), int(arrays["probe_n"])
        # anchors are common words ("what is the"): a finer map lets fewer absent ones through
        self._short = _Table(arrays["short_hashes"], arrays["short_offsets"], arrays["short_items"], extra_bits=10)
        self._report = _Table(arrays["report_hashes"], arrays["report_offsets"], arrays["report_items"])
        self._anchor = int(arrays["anchor"])
        self._totals, self._numeric_totals = arrays["item_ngrams"], arrays["item_numeric_ngrams"]
        # per item: the length and hash of its whole problem if it is short (length 0 if not)
        self._short_length = np.zeros(self._totals.size, dtype=np.int64)
        self._short_whole = np.zeros(self._totals.size, dtype=np.uint64)
        self._short_length[arrays["short_of"]] = arrays["short_lengths"]
        self._short_whole[arrays["short_of"]] = arrays["short_whole"]
        self._numeric = arrays["decide_numeric"]
        self._words, self._ngrams = WordHasher(), NgramHasher()
        self._loaded = True

    def matches(self, text: str) -> tuple[list[dict], list[int]]:
        """(flagged items as {item, share, longest, span}, items sharing a ``report_n``-gram) of one text."""
        return self.matches_batch([text])[0]

    def matches_batch(self, texts: list[str]) -> list[tuple[list[dict], list[int]]]:
        """``matches`` of every text, computed for the whole batch at once."""
        if not self._loaded:
            self._load()
        words = self._words.batch(texts)
        hashes, first = words.hashes, words.first
        text_of = np.repeat(np.arange(len(texts)), np.diff(first))  # the text of every word
        prefix = self._ngrams.prefix(hashes)

        def inside(pos: np.ndarray, lengths) -> np.ndarray:  # windows within one text
            last = pos + lengths - 1
            return (last < hashes.size) & (text_of[pos] == text_of[np.minimum(last, hashes.size - 1)])

        flagged: list[dict[int, tuple]] = [{} for _ in texts]  # item -> (share, longest, first word, last word)
        report: list[list[int]] = [[] for _ in texts]
        grams = self._ngrams.ngrams(prefix, self.n)
        stride = self.n - self._probe_n + 1
        probed = self._texts_with(self._probe, self._ngrams.ngrams(prefix, self._probe_n), stride, text_of)
        if probed.size:
            positions = _windows(first, probed, self.n)
            found, entries = self._decide.find(grams[positions])
            if found.size:
                pos, entry, item = self._decide.expand(positions[found], entries)
                owner = text_of[pos]
                for t in np.unique(owner).tolist():
                    mine = owner == t
                    flagged[t].update(self._decide_items(pos[mine], entry[mine], item[mine]))
        if self.report_n:
            for t, k in self._report_overlaps(prefix, grams, first, text_of):
                report[t].append(k)
        if self._short.hashes.size:
            spos, sent = self._short.find(self._ngrams.ngrams(prefix, self._anchor))
            if spos.size:  # anchors are common ("what is the"): confirmed on the whole problem, in numpy
                spos, _, sitem = self._short.expand(spos, sent)
                lengths = self._short_length[sitem]
                ok = inside(spos, lengths)
                spos, sitem, lengths = spos[ok], sitem[ok], lengths[ok]
                whole = self._ngrams.at(prefix, spos, lengths) == self._short_whole[sitem]
                for p, k, length in zip(spos[whole].tolist(), sitem[whole].tolist(), lengths[whole].tolist()):
                    t = int(text_of[p])
                    if k not in flagged[t]:
                        flagged[t][k] = (1.0, length, p, p + length - 1)
        out = []
        for t in range(len(texts)):
            found = [{"item": k, "share": round(share, 3), "longest": longest,
                      "span": words.span(a, b)[:SPAN_CHARS]}
                     for k, (share, longest, a, b) in sorted(flagged[t].items())]
            out.append((found, report[t]))
        return out

    @staticmethod
    def _texts_with(table: _Table, grams: np.ndarray, stride: int, text_of: np.ndarray) -> np.ndarray:
        """The texts with one of ``grams`` at every ``stride``-th position in ``table`` (a window over two texts
        may add one: it is only looked at more closely)."""
        at, _ = table.find(grams[::stride])
        return np.unique(text_of[at * stride])

    def _report_overlaps(self, prefix, grams, first, text_of) -> list[tuple[int, int]]:
        """Sorted (text, item) pairs sharing a ``report_n``-gram, looked up only in the texts that share an n-gram
        with a problem or solution at one of every ``report_n - n + 1`` positions (which every such text does)."""
        texts = self._texts_with(self._context, grams, max(1, self.report_n - self.n + 1), text_of)
        if not texts.size:
            return []
        positions = _windows(first, texts, self.report_n)
        found, entries = self._report.find(self._ngrams.at(prefix, positions, np.full(positions.size,
                                                                                       self.report_n)))
        rpos, _, ritem = self._report.expand(positions[found], entries)
        return sorted(set(zip(text_of[rpos].tolist(), ritem.tolist())))

    def _decide_items(self, pos: np.ndarray, entry: np.ndarray, item: np.ndarray) -> dict[int, tuple]:
        out = {}
        order = np.lexsort((pos, item))
        pos, entry, item = pos[order], entry[order], item[order]
        bounds = np.flatnonzero(np.diff(item)) + 1
        for p, e, k in zip(np.split(pos, bounds), np.split(entry, bounds), np.split(item, bounds)):
            k = int(k[0])
            e = np.unique(e)
            share = min(e.size / max(int(self._totals[k]), 1), 1.0)
            numeric_total = int(self._numeric_totals[k])
            if numeric_total and np.count_nonzero(self._numeric[e]) / numeric_total < self.min_share:
                continue  # the item's words without its numbers: a sibling of the same template
            # runs of consecutive matching positions: a run of r n-grams is r + n - 1 words
            p = np.unique(p)
            breaks = np.flatnonzero(np.diff(p) != 1)
            run_starts = np.concatenate([[0], breaks + 1])
            run_ends = np.concatenate([breaks, [p.size - 1]])
            best = int(np.argmax(run_ends - run_starts))
            longest = int(run_ends[best] - run_starts[best]) + self.n
            if share >= self.min_share or longest >= self.min_match_words:
                out[k] = (share, longest, int(p[run_starts[best]]), int(p[run_ends[best]]) + self.n - 1)
        return out

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        results = [True] * len(batch)
        subsets = [doc.metadata.get("subset") or "unknown" for doc in batch]
        for t, (flagged, overlap) in enumerate(self.matches_batch([d.text for d in batch])):
            if flagged or overlap:
                results[t] = self._result(batch[t], subsets[t], self.actions.get(subsets[t], self.action), flagged,
                                          overlap)
        add_counts(self.stats, {f"checked/{subset}": count for subset, count in Counter(subsets).items()})
        return results

    def _result(self, doc: Document, subset: str, action: str, flagged: list[dict], overlap: list[int]):
        for k in overlap:
            self.stat_update(f"llemma30/{subset}/{self._items[k]['benchmark']}")
        overlap_set = set(overlap)
        benches = sorted({self._items[m["item"]]["benchmark"] for m in flagged})
        for m in flagged:
            item = self._items[m["item"]]
            self.write_hit({"doc_id": doc.id, "subset": subset, "benchmark": item["benchmark"], "item": item["index"],
                            "action": action, "share": m["share"], "longest": m["longest"], "span": m["span"],
                            f"overlap_{self.report_n}": m["item"] in overlap_set})
        for k in sorted(overlap_set - {m["item"] for m in flagged}):
            item = self._items[k]
            self.write_hit({"doc_id": doc.id, "subset": subset, "benchmark": item["benchmark"], "item": item["index"],
                            "action": None, f"overlap_{self.report_n}": True})
        for bench in benches:
            self.stat_update(f"flagged/{subset}/{bench}")
        if not benches:
            return True
        if action == "report":
            for bench in benches:
                self.stat_update(f"reported_{bench}")
            return True
        for bench in benches[1:]:
            self.stat_update(f"also_contaminated_{bench}")
        return False, f"contaminated_{benches[0]}"
