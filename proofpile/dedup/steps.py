"""Small steps around datatrove's exact and MinHash deduplication.

datatrove's ``ExactDedup*`` and ``MinhashDedup{Buckets,Cluster,Filter}`` are used as they are. What changes:

- ``MathMinhashSignature`` (stage 1) shingles math-safe normalised words (``proofpile.dedup.text``) instead of
  spaCy words with numbers and punctuation stripped, hashes them with vectorised numpy, gives documents shorter
  than ``n`` words one shingle of their whole text, and can key documents by subset so that only documents of the
  same subset can collide. It also writes each document's shingle set, for
- ``MinhashVerifyPairs`` (between stage 2 and 3): LSH pairs are candidates; a pair is kept only if the exact
  Jaccard similarity of the two shingle sets reaches the threshold. LSH bands can then be tuned for recall, and
  the exact check gives the precision.
"""

from __future__ import annotations

import struct

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.dedup.minhash import SENTINEL, MinhashConfig, MinhashDedupSignature
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.utils.typeshelper import StatHints
from datatrove.utils.word_tokenizers import WordTokenizer
from xxhash import xxh3_64_intdigest

from proofpile.contract import SUBSETS
from proofpile.dedup.text import WORD_PATTERN, WordHashes, ngram_hashes, words

# the last of 64 bits dropped keep signature values below datatrove's 64-bit hash ceiling (the Mersenne prime
# 2**61 - 1): its bucket reader stops at the first value above it
_SIG_SHIFT = np.uint64(4)
_FLUSH_DOCS = 8192
_CHUNK_ROWS = 4096  # shingles per block of the (shingles x permutations) product, to bound memory


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
        self._word_hashes: dict[int, WordHashes] = {}

    @property
    def parameters(self):
        """Per permutation an odd multiplier and an offset: ``((a * h + b) mod 2**64) >> 4`` is a bijection of
        the (already uniformly hashed) shingles, computed without the modulo of the Mersenne-prime scheme."""
        if self._parameters is None:
            rng = np.random.default_rng(self.config.seed)
            a = rng.integers(0, 2**64, size=self.num_hashes, dtype=np.uint64) | np.uint64(1)
            b = rng.integers(0, 2**64, size=self.num_hashes, dtype=np.uint64)
            self._parameters = (a, b)
        return self._parameters

    def get_shingles(self, text: str, seed: int = 0) -> np.ndarray:
        """uint64 hashes of the document's word n-grams (one for a document shorter than n words), repeats kept:
        the signature's minimum does not care, and sorting them would cost more than it saves."""
        if seed not in self._word_hashes:
            self._word_hashes[seed] = WordHashes(seed)
        return ngram_hashes(self._word_hashes[seed].of(words(text)), self.config.n_grams, short=True)

    def get_signature(self, shingles: np.ndarray) -> np.ndarray:
        """Signature of a non-empty shingle array: (num_buckets, hashes_per_bucket) uint64."""
        a, b = self.parameters
        sig = np.full(self.num_hashes, np.iinfo(np.uint64).max, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for start in range(0, len(shingles), _CHUNK_ROWS):
                block = shingles[start : start + _CHUNK_ROWS, None] * a
                block += b
                np.minimum(sig, block.min(axis=0), out=sig)
        return (sig >> _SIG_SHIFT).reshape(self.config.num_buckets, self.config.hashes_per_bucket)

    def doc_seed(self, doc: Document) -> int:
        return subset_seed(doc.metadata.get("subset", "")) if self.within_subsets else 0

    def _record_dtype(self) -> np.dtype:
        # datatrove's on-disk record: hashes_per_bucket little-endian uint64, then the document index (uint32)
        fields = [(f"field{i + 1}", "<u8") for i in range(self.config.hashes_per_bucket)]
        return np.dtype(fields + [(f"field{self.config.hashes_per_bucket + 1}", "<u4")])

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1):
        dtype = self._record_dtype()
        nb, hpb = self.config.num_buckets, self.config.hashes_per_bucket
        paths = [f"bucket_{bi:03d}/{rank:05d}.minhash.sig" for bi in range(nb)]
        buckets = [self.output_folder.open(p, mode="wb") for p in paths]
        shingle_file = self.shingles_folder.open(f"{rank:05d}.shingles", mode="wb") if self.shingles_folder else None
        offsets = [0]
        sigs, doc_ids = [], []

        def flush():
            if not sigs:
                return
            block = np.stack(sigs)  # (docs, buckets, hashes_per_bucket)
            ids = np.asarray(doc_ids, dtype=np.uint32)
            for bi, f in enumerate(buckets):
                records = np.empty(len(ids), dtype=dtype)
                for i in range(hpb):
                    records[f"field{i + 1}"] = block[:, bi, i]
                records[f"field{hpb + 1}"] = ids
                f.write(records.tobytes())
            sigs.clear()
            doc_ids.clear()

        with self.track_time():
            for doc_idx, doc in enumerate(data):
                self.stat_update(StatHints.total)
                shingles = self.get_shingles(doc.text, self.doc_seed(doc))
                if shingle_file is not None:
                    # 32 bits per shingle are plenty to compute a Jaccard similarity; sorted and unique
                    small = np.unique(shingles.astype(np.uint32))
                    shingle_file.write(small.astype("<u4").tobytes())
                    offsets.append(offsets[-1] + len(small))
                if shingles.size == 0:
                    self.stat_update("no_shingles")
                    continue
                sigs.append(self.get_signature(shingles))
                doc_ids.append(doc_idx)
                if len(sigs) >= _FLUSH_DOCS:
                    flush()
            flush()
            for f in buckets:
                f.close()
            if shingle_file is not None:
                shingle_file.close()
                with self.shingles_folder.open(f"{rank:05d}.offsets", mode="wb") as f:
                    f.write(np.asarray(offsets, dtype="<u8").tobytes())
            # datatrove's bucket stage merges sorted files
            for path in paths:
                with self.output_folder.open(path, mode="rb") as f:
                    records = np.frombuffer(f.read(), dtype=dtype).copy()
                records.sort(order=dtype.names)
                with self.output_folder.open(path, mode="wb") as f:
                    f.write(records.tobytes())


class ShingleSets:
    """Random access to the shingle sets a ``MathMinhashSignature`` rank wrote (memory-mapped when local)."""

    def __init__(self, folder):
        self.folder = folder
        self._ranks: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _load(self, name: str, dtype) -> np.ndarray:
        if self.folder.is_local():
            path = self.folder.resolve_paths(name)
            if self.folder.size(name) == 0:
                return np.empty(0, dtype=dtype)
            return np.memmap(path, dtype=dtype, mode="r")
        with self.folder.open(name, "rb") as f:
            return np.frombuffer(f.read(), dtype=dtype)

    def get(self, rank: int, doc: int) -> np.ndarray:
        if rank not in self._ranks:
            self._ranks[rank] = (self._load(f"{rank:05d}.offsets", "<u8"), self._load(f"{rank:05d}.shingles", "<u4"))
        offsets, data = self._ranks[rank]
        return data[offsets[doc] : offsets[doc + 1]]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted arrays of unique values."""
    if a.size == 0 and b.size == 0:
        return 1.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


class MinhashVerifyPairs(PipelineStep):
    """Keeps an LSH duplicate pair only if the exact Jaccard similarity of its shingle sets is >= ``threshold``.

    Reads datatrove's ``*.dups`` files (stage 2) and writes files of the same names and format for stage 3; each
    rank takes every ``world_size``-th file. Pairs against an index are kept as they are (no shingles to compare).
    """

    type = "🫂 - DEDUP"
    name = "🔍 MinHash verify pairs"

    def __init__(self, input_folder: DataFolderLike, output_folder: DataFolderLike, shingles_folder: DataFolderLike,
                 threshold: float = 0.8):
        super().__init__()
        self.input_folder = get_datafolder(input_folder)
        self.output_folder = get_datafolder(output_folder)
        self.shingles_folder = get_datafolder(shingles_folder)
        self.threshold = threshold

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1):
        shingles = ShingleSets(self.shingles_folder)
        decided: dict[tuple[int, int, int, int], bool] = {}
        pair = struct.Struct("<4I")
        with self.track_time():
            for name in sorted(self.input_folder.list_files(glob_pattern="*.dups"))[rank::world_size]:
                with self.input_folder.open(name, "rb") as f:
                    pairs = np.frombuffer(f.read(), dtype="<u4").reshape(-1, 4)
                with self.output_folder.open(name, "wb") as out:
                    for f1, d1, f2, d2 in pairs.tolist():
                        self.stat_update("candidate_pairs")
                        if f1 == SENTINEL:
                            keep = True
                        else:
                            key = (f1, d1, f2, d2)
                            if key not in decided:
                                decided[key] = jaccard(shingles.get(f1, d1), shingles.get(f2, d2)) >= self.threshold
                            keep = decided[key]
                        self.stat_update("verified_pairs" if keep else "rejected_pairs")
                        if keep:
                            out.write(pair.pack(f1, d1, f2, d2))
