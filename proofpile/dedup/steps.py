"""Exact and MinHash deduplication in four pipelines, the input read twice.

- ``DuplicateSignatures`` (one read, every rank): per document the hash of its exact content, its MinHash band keys
  over math-safe word 5-grams (``MathMinhashSignature``: normalised words that keep numbers, operators and LaTeX
  commands, a key per subset so only documents of one subset can collide), its shingle set and its id. A batch of
  documents is hashed at once: words, n-grams and each permutation's minima are one numpy pass over the batch.
- ``FindNearPairs`` (bands split across tasks): documents equal in a band are candidates, a pair if the exact
  Jaccard similarity of their shingle sets reaches the threshold (so LSH bands can be tuned for recall, and the
  exact check gives the precision).
- ``FindDuplicates`` (one task, in the stage's process): equal exact hashes and the pairs make clusters; each keeps
  its smallest id.
- ``DuplicateFilter`` (second read): drops the others, counted as exact or near duplicates.

datatrove's own ``ExactDedup*`` and ``MinhashDedup*`` take seven pipelines and three reads for the same job (and
keep a rank-dependent member of each cluster); its ``MinhashDedupSignature`` still takes ``MathMinhashSignature``'s
shingles and signatures (``MathWordTokenizer`` plugs our words into it).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.utils.typeshelper import StatHints
from datatrove.utils.word_tokenizers import WordTokenizer
from xxhash import xxh3_64_intdigest

from proofpile.batches import sized_batches
from proofpile.contract import SUBSETS
from proofpile.dedup.text import PRIME, WORD_PATTERN, batch_ngram_hashes, batch_word_hashes, fmix64, words

# documents hashed together (and written at once): numpy works on whole batches, memory stays flat in the input
_BATCH_DOCS, _BATCH_CHARS = 1024, 1 << 16
T = TypeVar("T")


def text_batches(items: Iterable[T], text_of: Callable[[T], str]) -> Iterator[list[T]]:
    """Consecutive batches of ``items``, hashed together: up to ``_BATCH_DOCS`` items or ``_BATCH_CHARS`` of text."""
    return sized_batches(items, _BATCH_DOCS, _BATCH_CHARS, text_of)


class SubsetCheck(BaseFilter):
    """Drops (counted) a document whose ``meta.subset`` is not one of the contract's subsets: dedup groups by it."""

    name = "🏷️ Subset check"

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return True if doc.metadata.get("subset") in SUBSETS else (False, "bad_subset")

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        # no reader in front when no upstream stage wrote a shard: an empty input, not an error
        return super().run(data if data is not None else iter(()), rank, world_size)


def document_text(doc: Document) -> str:
    """Exact-dedup content across subsets."""
    return doc.text


def subset_and_text(doc: Document) -> str:
    """Exact-dedup content within a subset: equal texts in different subsets differ."""
    return f"{doc.metadata['subset']}\x00{doc.text}"


def subset_seed(subset: str) -> int:
    return xxh3_64_intdigest(subset)


class MathWordTokenizer(WordTokenizer):
    """datatrove's word-tokenizer interface over our math-safe regex (also usable as ``language=`` in datatrove)."""

    def __init__(self):
        super().__init__("math")

    def word_tokenize(self, text: str) -> list[str]:
        return words(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [text]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in WORD_PATTERN.finditer(text)]


class MathMinhashSignature(MinhashDedupSignature):
    """MinHash stage 1 on math-safe shingles, writing datatrove's bucket files (so stages 2-4 are datatrove's).

    Args:
        output_folder: signature folder (``bucket_XXX/RANK.minhash.sig``)
        config: datatrove MinhashConfig (n_grams, num_buckets, hashes_per_bucket, seed; 64-bit hashes)
        within_subsets: documents of different ``meta.subset`` get independent hashes, so never collide
        shingles_folder: if set, each rank writes its documents' shingle sets there for ``MinhashVerifyPairs``
    """

    name = "🎯 MinHash signatures (math-safe words)"

    def __init__(self, output_folder: DataFolderLike, config: MinhashConfig, within_subsets: bool = True,
                 shingles_folder: DataFolderLike | None = None):
        if config.hash_config.precision != 64:
            raise ValueError("MathMinhashSignature writes 64-bit signatures: use HashConfig(precision=64)")
        super().__init__(output_folder, config=config, language=MathWordTokenizer())
        self.within_subsets = within_subsets
        self.shingles_folder = get_datafolder(shingles_folder) if shingles_folder else None

    @property
    def parameters(self) -> tuple[np.ndarray, np.ndarray]:
        """Per permutation an odd multiplier ``a`` and a mask ``b``: ``(h ^ b) * a mod 2**32`` is a bijection of the
        shingle hashes' low 32 bits, which are already uniform (fmix64). 32-bit lanes: numpy multiplies them in
        SIMD registers (64-bit products it mostly cannot), and the verification compares the same 32 bits."""
        if self._parameters is None:
            rng = np.random.default_rng(self.config.seed)
            a = rng.integers(0, 2**32, size=self.num_hashes, dtype=np.uint32) | np.uint32(1)
            self._parameters = (a, rng.integers(0, 2**32, size=self.num_hashes, dtype=np.uint32))
        return self._parameters

    def get_shingles(self, text: str, seed: int = 0) -> np.ndarray:
        """uint64 hashes of the document's word n-grams (one for a document shorter than n words), repeats kept:
        the signature's minimum does not care, and sorting them would cost more than it saves."""
        return self.get_shingles_batch([text], [seed])[0]

    def get_shingles_batch(self, texts: list[str], seeds: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """``get_shingles`` of several texts at once: their shingles in order, and where each text's start."""
        return batch_ngram_hashes(*batch_word_hashes(texts, seeds), self.config.n_grams, short=True)

    def get_signature(self, shingles: np.ndarray) -> np.ndarray:
        """Signature of a non-empty shingle array: (num_buckets, hashes_per_bucket) uint64 (values below 2**32)."""
        return self.get_signatures(shingles, np.array([0, len(shingles)]))[0]

    def get_signatures(self, shingles: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Signatures of several texts' shingles at once (``offsets`` as ``get_shingles_batch`` returns them), one
        per text with a shingle: (such texts, num_buckets, hashes_per_bucket) uint64. A permutation at a time over
        all the shingles, its minimum per text by ``reduceat``: no array work per text."""
        low = shingles.astype(np.uint32)
        starts = offsets[:-1][np.diff(offsets) > 0]
        sig = np.empty((self.num_hashes, len(starts)), dtype=np.uint32)
        if len(starts):
            permuted = np.empty_like(low)
            for row, a, b in zip(sig, *self.parameters):
                np.bitwise_xor(low, b, out=permuted)
                np.multiply(permuted, a, out=permuted)
                np.minimum.reduceat(permuted, starts, out=row)
        return sig.T.astype(np.uint64).reshape(len(starts), self.config.num_buckets, self.config.hashes_per_bucket)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of unique values."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """One uint64 per band of (..., bands, rows) signatures: equal bands have equal keys (and unequal ones collide
    with probability 2**-64), so LSH buckets are one sort of one column."""
    with np.errstate(over="ignore"):
        acc = signatures[..., 0].copy()
        for k in range(1, signatures.shape[-1]):
            acc *= PRIME
            acc += signatures[..., k]
    return fmix64(acc)


class DuplicateSignatures(PipelineStep):
    """Everything dedup needs from a document, in one read: the hash of its exact content, its MinHash band keys,
    its shingle set (for the exact-Jaccard check) and its id (to choose which duplicate stays).

    Per rank, in ``output_folder``: ``RANK.exact`` (uint64 per document, in reading order), ``RANK.ids`` +
    ``RANK.idoffsets`` (``id \\0 subset``, UTF-8), and with ``signer``: ``RANK.bandBBB`` (a uint64 per document),
    ``RANK.hasbands`` (uint8: 0 for a document without a word), ``RANK.shingles`` + ``RANK.offsets`` (its
    shingles' low 32 bits, repeats kept).
    """

    type = "🫂 - DEDUP"
    name = "🔑 Duplicate signatures"

    def __init__(self, output_folder: DataFolderLike, exact_content, signer: MathMinhashSignature | None = None,
                 within_subsets: bool = True):
        super().__init__()
        self.output_folder = get_datafolder(output_folder)
        self.exact_content = exact_content
        self.signer = signer
        self.within_subsets = within_subsets

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1):
        names = ["exact", "ids", "idoffsets"]
        if self.signer:
            names += ["hasbands", "shingles", "offsets"] + [f"band{b:03d}" for b in range(self.signer.config.num_buckets)]
        files = {n: self.output_folder.open(f"{rank:05d}.{n}", mode="wb") for n in names}
        self._ends = {"idoffsets": 0, "offsets": 0}  # bytes of ids and shingles written so far
        for n in self._ends.keys() & files.keys():
            files[n].write(np.zeros(1, "<u8").tobytes())
        with self.track_time():
            for batch in text_batches(data if data is not None else (), lambda doc: doc.text):
                self._write_batch(batch, files)
            for f in files.values():
                f.close()

    def _write_batch(self, docs: list[Document], files: dict) -> None:
        self.stat_update(StatHints.total, value=len(docs))
        subsets = [doc.metadata.get("subset", "") for doc in docs]
        files["exact"].write(np.fromiter((xxh3_64_intdigest(self.exact_content(doc)) for doc in docs), "<u8",
                                         count=len(docs)).tobytes())
        keys = [f"{doc.id}\x00{subset}".encode() for doc, subset in zip(docs, subsets)]
        files["ids"].write(b"".join(keys))
        self._write_ends(files, "idoffsets", np.fromiter(map(len, keys), np.uint64, count=len(keys)))
        if not self.signer:
            return
        seeds = [subset_seed(subset) if self.within_subsets else 0 for subset in subsets]
        shingles, offsets = self.signer.get_shingles_batch([doc.text for doc in docs], seeds)
        # 32 bits are plenty for a Jaccard similarity; made a set only if the document is a candidate
        files["shingles"].write(shingles.astype("<u4").tobytes())
        self._write_ends(files, "offsets", np.diff(offsets).astype(np.uint64))
        has = np.diff(offsets) > 0
        bands = np.zeros((len(docs), self.signer.config.num_buckets), "<u8")
        bands[has] = band_keys(self.signer.get_signatures(shingles, offsets))
        for b, column in enumerate(bands.T):
            files[f"band{b:03d}"].write(column.tobytes())
        files["hasbands"].write(has.astype("u1").tobytes())
        if not has.all():
            self.stat_update("no_shingles", value=int((~has).sum()))

    def _write_ends(self, files: dict, name: str, sizes: np.ndarray) -> None:
        """Appends the running end of each document's entries (after the 0 written first) to ``RANK.<name>``."""
        ends = np.cumsum(sizes, dtype=np.uint64) + np.uint64(self._ends[name])
        if len(ends):
            self._ends[name] = int(ends[-1])
        files[name].write(ends.astype("<u8").tobytes())


class _RankArrays:
    """The arrays ``DuplicateSignatures`` wrote for one rank, memory-mapped when local."""

    def __init__(self, folder, rank: int):
        self.folder, self.rank = folder, rank

    def load(self, name: str, dtype) -> np.ndarray:
        path = f"{self.rank:05d}.{name}"
        if not self.folder.exists(path) or self.folder.size(path) == 0:
            return np.empty(0, dtype=dtype)
        if self.folder.is_local():
            return np.memmap(self.folder.resolve_paths(path), dtype=dtype, mode="r")
        with self.folder.open(path, "rb") as f:
            return np.frombuffer(f.read(), dtype=dtype)


class _Signatures:
    """Every rank's ``DuplicateSignatures`` arrays, its documents numbered across ranks in rank order."""

    def __init__(self, folder):
        self.folder = folder
        self.ranks = sorted(int(f.split(".")[0]) for f in folder.list_files(glob_pattern="*.exact"))
        self.arrays = {r: _RankArrays(folder, r) for r in self.ranks}
        self.starts = np.cumsum([0] + [self.arrays[r].load("exact", "<u8").size for r in self.ranks])

    def concat(self, name: str, dtype) -> np.ndarray:
        parts = [self.arrays[r].load(name, dtype) for r in self.ranks]
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

    def locate(self, g: int) -> tuple[int, int]:
        """(rank, index in the rank) of document number ``g``."""
        i = int(np.searchsorted(self.starts, g, side="right")) - 1
        return self.ranks[i], g - int(self.starts[i])


class _UnionFind(dict):
    """Clusters of document numbers: ``self[x]`` is x's parent, for the documents in some pair only."""

    def find(self, x: int) -> int:
        root = x
        while self.get(root, root) != root:
            root = self[root]
        while x != root:
            self[x], x = root, self.get(x, x)
        return root

    def join(self, a: int, b: int) -> bool:
        """Joins the clusters of a and b; whether they were two."""
        root_a, root_b = self.find(a), self.find(b)
        self.setdefault(root_a, root_a)
        self[root_b] = root_a
        return root_a != root_b

    def join_exact(self, hashes: np.ndarray) -> int:
        """Joins the documents with equal exact hashes; returns how many pairs that was."""
        pairs = _run_pairs(hashes, np.arange(len(hashes)))
        for a, b in zip(*(x.tolist() for x in pairs)):
            self.join(a, b)
        return len(pairs[0])


def _run_pairs(values: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (first of a run, other member) of the runs of equal ``values``, as indices from ``index``."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new_run = np.ones(len(ordered), dtype=bool)
    new_run[1:] = ordered[1:] != ordered[:-1]
    firsts = order[np.flatnonzero(new_run)[np.cumsum(new_run) - 1]]
    member = ~new_run
    return index[firsts[member]], index[order[member]]


class FindNearPairs(PipelineStep):
    """Near-duplicate pairs over every rank's ``DuplicateSignatures``: documents equal in a MinHash band are
    candidates, a pair if the exact Jaccard similarity of their shingle sets is >= ``verify_jaccard`` (``None``:
    every candidate is a pair). Rank ``r`` of ``world_size`` takes bands ``r, r + world_size, ...``, a band at a
    time in memory (8 bytes per document), so a huge input splits across tasks. Candidates already in one cluster
    (through equal exact hashes with ``exact``, or pairs verified before) are not verified again.
    Writes ``RANK.pairs`` (uint64 document numbers, two per pair).
    """

    type = "🫂 - DEDUP"
    name = "🪣 LSH pairs"

    def __init__(self, input_folder: DataFolderLike, output_folder: DataFolderLike, num_bands: int,
                 exact: bool = True, verify_jaccard: float | None = 0.8):
        super().__init__()
        self.input_folder = get_datafolder(input_folder)
        self.output_folder = get_datafolder(output_folder)
        self.num_bands, self.exact, self.verify_jaccard = num_bands, exact, verify_jaccard

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1):
        with self.track_time():
            sigs = _Signatures(self.input_folder)
            clusters = _UnionFind()
            if self.exact:
                clusters.join_exact(sigs.concat("exact", "<u8"))
            has = sigs.concat("hasbands", "u1").astype(bool)
            index = np.flatnonzero(has)
            candidates = set()
            for band in range(rank, self.num_bands, world_size):
                first, other = _run_pairs(sigs.concat(f"band{band:03d}", "<u8")[has], index)
                candidates.update(zip(np.minimum(first, other).tolist(), np.maximum(first, other).tolist()))
            offsets = {r: sigs.arrays[r].load("offsets", "<u8") for r in sigs.ranks}
            files = {r: self.input_folder.open(f"{r:05d}.shingles", "rb") for r in sigs.ranks}

            @functools.lru_cache(maxsize=1024)  # pairs come sorted: a document's set is reused from here
            def shingle_set(g: int) -> np.ndarray:
                # read, not memory-mapped: mapped pages of every candidate would stay in the RSS
                r, i = sigs.locate(g)
                start, end = int(offsets[r][i]), int(offsets[r][i + 1])
                files[r].seek(4 * start)
                return np.unique(np.frombuffer(files[r].read(4 * (end - start)), dtype="<u4"))

            pairs = []
            for a, b in sorted(candidates):
                self.stat_update("candidate_pairs")
                if clusters.find(a) == clusters.find(b):
                    self.stat_update("pairs_already_joined")
                elif self.verify_jaccard is None or jaccard(shingle_set(a), shingle_set(b)) >= self.verify_jaccard:
                    self.stat_update("verified_pairs")
                    clusters.join(a, b)
                    pairs += (a, b)
                else:
                    self.stat_update("rejected_pairs")
            for f in files.values():
                f.close()
            with self.output_folder.open(f"{rank:05d}.pairs", mode="wb") as f:
                f.write(np.array(pairs, dtype="<u8").tobytes())


class FindDuplicates(PipelineStep):
    """Clusters of duplicates over every rank's ``DuplicateSignatures``, and which documents to remove.

    Documents with equal exact hashes are joined (``exact``), and so are the pairs every ``FindNearPairs`` task
    wrote to ``pairs_folder`` (if given). Per cluster the document with the smallest ``(id, subset)`` stays -- a
    rule of the documents alone, so the same inputs keep the same documents however they are split into ranks or
    tasks. Writes ``RANK.remove`` (records of uint32 document index, uint8 reason: 1 exact, 2 near) for every rank
    with removals. One task: 8 bytes per document (the exact hashes) and the documents in some pair.
    """

    type = "🫂 - DEDUP"
    name = "🧩 Duplicate clusters"
    EXACT, NEAR = 1, 2
    REMOVE_DTYPE = np.dtype([("doc", "<u4"), ("reason", "u1")])

    def __init__(self, input_folder: DataFolderLike, output_folder: DataFolderLike, exact: bool = True,
                 pairs_folder: DataFolderLike | None = None):
        super().__init__()
        self.input_folder = get_datafolder(input_folder)
        self.output_folder = get_datafolder(output_folder)
        self.pairs_folder = get_datafolder(pairs_folder) if pairs_folder else None
        self.exact = exact

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1):
        with self.track_time():
            sigs = _Signatures(self.input_folder)
            hashes = sigs.concat("exact", "<u8")
            self.stat_update("documents", value=len(hashes))
            clusters = _UnionFind()
            if self.exact:
                self.stat_update("exact_pairs", value=clusters.join_exact(hashes))
            if self.pairs_folder:
                for name in sorted(self.pairs_folder.list_files(glob_pattern="*.pairs")):
                    with self.pairs_folder.open(name, "rb") as f:
                        pairs = np.frombuffer(f.read(), dtype="<u8").tolist()
                    # a pair equal in bands of several tasks is in several files: joined (and counted) once
                    near_joins = sum(clusters.join(a, b) for a, b in zip(pairs[::2], pairs[1::2]))
                    self.stat_update("near_joins", value=near_joins)
            members_of: dict[int, list[int]] = defaultdict(list)
            for g in list(clusters):
                members_of[clusters.find(g)].append(g)
            remove: dict[int, list[tuple[int, int]]] = defaultdict(list)
            ids = {r: (sigs.arrays[r].load("ids", "u1"), sigs.arrays[r].load("idoffsets", "<u8")) for r in sigs.ranks}

            def key(g: int) -> bytes:
                r, i = sigs.locate(g)
                data, offsets = ids[r]
                return data[int(offsets[i]):int(offsets[i + 1])].tobytes()

            for members in members_of.values():
                keep = min(members, key=key)
                self.stat_update("clusters")
                for g in members:
                    if g != keep:
                        reason = self.EXACT if self.exact and hashes[g] == hashes[keep] else self.NEAR
                        r, i = sigs.locate(g)
                        remove[r].append((i, reason))
                        self.stat_update("removed")
            for r, rows in remove.items():
                with self.output_folder.open(f"{r:05d}.remove", mode="wb") as f:
                    f.write(np.array(sorted(rows), dtype=self.REMOVE_DTYPE).tobytes())


class DuplicateFilter(BaseFilter):
    """Drops (counted: ``exact_duplicate`` / ``near_duplicate``) the documents ``FindDuplicates`` chose to remove.
    Runs behind the same reader and checks as ``DuplicateSignatures``, so document indices match."""

    name = "✂️ Duplicate filter"
    _REASONS = {FindDuplicates.EXACT: "exact_duplicate", FindDuplicates.NEAR: "near_duplicate"}

    def __init__(self, folder: DataFolderLike):
        super().__init__()
        self.folder = get_datafolder(folder)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        rows = _RankArrays(self.folder, rank).load("remove", FindDuplicates.REMOVE_DTYPE)
        self._remove = dict(zip(rows["doc"].tolist(), (self._REASONS[r] for r in rows["reason"].tolist())))
        self._index = -1
        return super().run(data, rank, world_size)

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        self._index += 1
        reason = self._remove.get(self._index)
        return True if reason is None else (False, reason)
