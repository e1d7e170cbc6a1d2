"""The tokenize stage's datatrove steps: encode documents in batches, then write them into Arrow shards."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched

from proofpile.atomic import atomic_json
from proofpile.contract import SUBSETS
from proofpile.names import SPLITS
from proofpile.stats import add_counts, add_values
from proofpile.tokens.shards import ShardStream, rank_file
from proofpile.tokens.tokenizer import Encoder, TokenizerInfo, rayon_env

TOKENS_KEY = "token_ids"  # the framed tokens of a document (a numpy view), between the two steps


class TokenizeDocuments(PipelineStep):
    """Encodes documents ``batch_size`` at a time with the tokenizer's own threads and attaches
    ``metadata["token_ids"]`` (``[BOS] tokens EOS`` as numpy) and ``metadata["token_count"]``."""

    name = "🔢 Tokenize"
    type = "🔢 - TOKENIZER"

    def __init__(self, tokenizer: TokenizerInfo, threads: int = 1, batch_size: int = 1000):
        super().__init__()
        self.tokenizer = tokenizer
        self.threads = threads
        self.batch_size = batch_size

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        encoder = Encoder(self.tokenizer, threads=self.threads)
        # The pool thread runs only the tokenizer's native encoding (without the GIL, on all its threads); this
        # thread turns batch k's result into numpy (``frame``, the GIL-bound part), passes it downstream and reads
        # the next batch while batch k+1 is encoded: past the first batch, the tokenizer's threads do not wait
        # for Python. Batch k's native result (``tokenizers``' Encodings: ~100 bytes a token) is let go as soon as
        # it is framed, before its documents go downstream, where a shard write may be under way: only one batch's
        # result is held at a time, however long the run.
        with rayon_env(self.threads), ThreadPoolExecutor(max_workers=1) as pool:
            pending = None
            for batch in batched(data, self.batch_size):
                encoded = pool.submit(encoder.encode, [doc.text for doc in batch])
                if pending:
                    framed, pending = self._frame(encoder, *pending), None
                    yield from self._attach(*framed)
                pending = (batch, encoded)
            if pending:
                framed, pending = self._frame(encoder, *pending), None
                yield from self._attach(*framed)

    def _frame(self, encoder: Encoder, batch, encoded) -> tuple:
        with self.track_time(unit="batch"):
            return batch, *encoder.frame(encoded.result())

    def _attach(self, batch, flat: np.ndarray, lengths: np.ndarray) -> DocumentsPipeline:
        add_values(self.stats, "tokens", lengths)
        ends = np.cumsum(lengths).tolist()
        start = 0
        for doc, end in zip(batch, ends):
            doc.metadata[TOKENS_KEY] = flat[start:end]
            doc.metadata["token_count"] = end - start
            start = end
            yield doc


class ArrowShardWriter(PipelineStep):
    """Writes tokenized documents into Arrow shards per ``meta.subset`` and ``meta.split`` (see
    ``proofpile.tokens.shards``), then the rank's record ``.ranks/.rank-RRRRR.json``. A document without a known
    subset (``subsets``: the contract's, plus e.g. ``general`` for general-domain data) or split is dropped and
    counted."""

    name = "🏹 Arrow shards"
    type = "💽 - WRITER"

    def __init__(self, folder: str, tokenizer: dict, shard_tokens: int, seq_len: int | None = None,
                 subsets: tuple[str, ...] = SUBSETS):
        super().__init__()
        self.subsets = tuple(subsets)
        self.folder = folder
        self.tokenizer = tokenizer  # Encoder.description(): id, dtype, ...
        self.shard_tokens = int(shard_tokens)
        self.seq_len = int(seq_len) if seq_len else None

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        folder = Path(self.folder)
        streams: dict[tuple[str, str], ShardStream] = {}
        counts: dict[tuple[str, str, str | None], list[int]] = {}
        dropped: dict[str, int] = {}
        subset_tokens: dict[str, list[int]] = {}
        meta = {"tokenizer": self.tokenizer["id"]}
        try:
            for doc in data:
                tokens = doc.metadata.pop(TOKENS_KEY)
                subset, split = doc.metadata.get("subset"), doc.metadata.get("split")
                reason = ("unknown_subset" if subset not in self.subsets else
                          "unknown_split" if split not in SPLITS else None)
                if reason:
                    self.stat_update(f"dropped_{reason}")
                    dropped[f"dropped_{reason}"] = dropped.get(f"dropped_{reason}", 0) + 1
                    continue
                lang = doc.metadata.get("lang")
                lang = str(lang) if lang is not None else None
                stream = streams.get((subset, split))
                if stream is None:
                    stream = streams[(subset, split)] = ShardStream(
                        folder, subset, split, rank, self.tokenizer["dtype"], self.shard_tokens, self.seq_len, meta)
                stream.add(tokens, doc.id, lang)
                n_tokens = len(tokens)
                acc = counts.setdefault((subset, split, lang), [0, 0])
                acc[0] += 1
                acc[1] += n_tokens
                subset_tokens.setdefault(subset, []).append(n_tokens)  # the stats, added once at the end
                yield doc
            for subset, lengths in subset_tokens.items():
                add_counts(self.stats, {"documents": len(lengths), f"documents_{subset}": len(lengths)})
                add_values(self.stats, f"tokens_{subset}", lengths)
            parts = []
            for key in sorted(streams):
                parts += streams[key].close()
        except BaseException:
            for stream in streams.values():
                stream.abort()
            raise
        self.stat_update("shards", value=len(parts), unit="rank")
        record = {"rank": rank, "world_size": world_size, "parts": parts, "dropped": dropped,
                  "counts": [{"subset": s, "split": sp, "lang": lang, "documents": d, "tokens": t}
                             for (s, sp, lang), (d, t) in counts.items()]}
        atomic_json(rank_file(folder, rank), record)


def default_threads(workers: int) -> int:
    """The cores a rank may use when ``workers`` ranks run at once on this machine."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))
