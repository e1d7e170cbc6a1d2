"""Arrow token shards: their schema, how a rank writes them, and how a run's shards are finalized.

Layout under ``<root>/tokenized/<tokenizer-id>/``::

    <subset>/<split>/shard-NNNNN.arrow   Arrow IPC *files* (random-access format, with a footer)
    stats.json                            what the report and manifest stages read (below)
    .ranks/.rank-RRRRR.json               what each rank wrote (the finalize step's input)

Columns: ``input_ids`` (``list<uint16>``, or ``list<uint32>`` for vocabularies over 65,536), ``id`` (the document,
or with packing the document a row starts in), ``subset``, ``split``, ``lang`` (``meta.lang``, null if absent). The
schema metadata key ``proofpile`` holds JSON with the tokenizer identity, subset, split and packing. A shard is
written in record batches of about ``BATCH_TOKENS`` tokens and loads unchanged with ``pyarrow.ipc.open_file``,
``pyarrow.dataset.dataset(<subset folder>, format="arrow")``, ``polars.scan_ipc`` (lazily, one batch at a time) and
``datasets.load_dataset("arrow", data_files=...)``. (``datasets.Dataset.from_file`` reads only the IPC *stream*
format, up to datasets 5.2 at least: ``datasets.Dataset(open_shard(path))`` is the same memory-mapped table.)

Every document is ``[BOS] tokens EOS``; a row is a document, or with ``seq_len`` set (packing) exactly ``seq_len``
tokens of the concatenated documents (a rank's last row per subset and split may be shorter: it is kept, not
dropped). A shard closes at the first row that brings it to ``shard_tokens`` tokens.

Determinism across ranks: datatrove gives rank r a fixed slice of the sorted input files; rank r writes
``part-RRRRR-NNNNN.arrow`` (each via a hidden temp file, fsync and rename, so a killed job never leaves a file that
looks finished), then ``.ranks/.rank-RRRRR.json`` listing its parts. When every rank is done, ``finalize`` renames the
parts of each subset and split, in (rank, n) order, to ``shard-00000.arrow``, ``shard-00001.arrow``, ... -- the same
names for the same inputs and ``tasks`` -- and writes ``stats.json``. Both steps can be rerun after a kill.

``stats.json``::

    {"format": "proofpile-tokenized/1",
     "tokenizer": {"id", "name", "source", "kind", "sha256", "vocab_size", "dtype", "bos_id", "eos_id"},
     "seq_len": null | int,            # packing
     "shard_tokens": int,              # the shard budget
     "totals": {"documents": int, "tokens": int, "shards": int},
     "counts": [{"subset", "split", "lang", "documents", "tokens"}, ...],   # lang null when meta.lang is absent
     "shards": [{"path": "<subset>/<split>/shard-NNNNN.arrow", "subset", "split", "rows", "documents", "tokens",
                 "bytes"}, ...],
     "dropped": {"<reason>": int}}

Tokens include BOS/EOS. ``counts`` and ``shards`` are sorted; ``path`` is relative to the tokenizer folder.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from proofpile.atomic import atomic_json
from proofpile.scratch import remove_stale, scratch_path

STATS_FORMAT = "proofpile-tokenized/1"
STATS_FILE = "stats.json"
RANKS_DIR = ".ranks"
# rows are appended to an open shard file as record batches of about this many tokens (2 MB of uint16): bounds
# memory per stream, and is the unit a lazy reader (polars.scan_ipc, pyarrow.dataset) loads at a time. (At 4M tokens
# the buffer and its concatenation, held while the next batch is encoded, added ~25 MB to a rank's peak RSS.)
BATCH_TOKENS = 1 << 20


def token_type(dtype: np.dtype | str) -> pa.DataType:
    return pa.uint16() if np.dtype(dtype) == np.uint16 else pa.uint32()


def shard_schema(dtype, metadata: dict | None = None) -> pa.Schema:
    fields = [pa.field("input_ids", pa.list_(token_type(dtype)), nullable=False),
              pa.field("id", pa.string(), nullable=False),
              pa.field("subset", pa.string(), nullable=False),
              pa.field("split", pa.string(), nullable=False),
              pa.field("lang", pa.string())]
    meta = {"proofpile": json.dumps(metadata, sort_keys=True)} if metadata else None
    return pa.schema(fields, metadata=meta)


@dataclass
class _Rows:
    """Rows waiting to be written: tokens of each row back to back, with their ids and langs."""

    tokens: list = field(default_factory=list)  # numpy arrays
    lengths: list = field(default_factory=list)  # row lengths
    ids: list = field(default_factory=list)
    langs: list = field(default_factory=list)
    doc_starts: int = 0
    n_tokens: int = 0

    def take(self):
        out = (np.concatenate(self.tokens), np.array(self.lengths, dtype=np.int64), self.ids, self.langs,
               self.doc_starts)
        self.__init__()
        return out


class ShardStream:
    """One rank's shards of one subset and split: rows in, ``part-RRRRR-NNNNN.arrow`` files out."""

    def __init__(self, folder: Path, subset: str, split: str, rank: int, dtype, shard_tokens: int,
                 seq_len: int | None = None, metadata: dict | None = None):
        self.folder = Path(folder) / subset / split
        self.subset, self.split, self.rank = subset, split, rank
        self.dtype = np.dtype(dtype)
        self.shard_tokens = max(1, int(shard_tokens))
        self.seq_len = seq_len
        self.schema = shard_schema(self.dtype, {**(metadata or {}), "subset": subset, "split": split,
                                                "seq_len": seq_len})
        self.parts: list[dict] = []
        self._pending = _Rows()
        self._writer = self._sink = self._tmp = None
        self._shard = {"rows": 0, "documents": 0, "tokens": 0}
        # packing: tokens not yet cut into a row, the documents that start in them (offset, id, lang)
        self._carry: list[np.ndarray] = []
        self._carry_len = 0
        self._carry_docs: list[tuple[int, str, str | None]] = []

    # -- input -----------------------------------------------------------------------------------------------
    def add(self, tokens: np.ndarray, doc_id: str, lang: str | None) -> None:
        """One framed document."""
        if self.seq_len is None:
            self._add_row(tokens, doc_id, lang, 1)
            return
        self._carry_docs.append((self._carry_len, doc_id, lang))
        self._carry.append(tokens)
        self._carry_len += len(tokens)
        if self._carry_len >= self.seq_len:
            self._cut_rows(final=False)

    def _cut_rows(self, final: bool) -> None:
        flat = np.concatenate(self._carry) if len(self._carry) > 1 else self._carry[0]
        n = len(flat) // self.seq_len
        starts = np.array([d[0] for d in self._carry_docs], dtype=np.int64)
        for row in range(n + (1 if final and len(flat) % self.seq_len else 0)):
            a = row * self.seq_len
            b = min(a + self.seq_len, len(flat))
            first = int(np.searchsorted(starts, a, side="right")) - 1
            begun = int(np.searchsorted(starts, b, side="left")) - int(np.searchsorted(starts, a, side="left"))
            _, doc_id, lang = self._carry_docs[first]
            self._add_row(flat[a:b], doc_id, lang, begun)
        rest = n * self.seq_len
        keep = max(0, int(np.searchsorted(starts, rest, side="right")) - 1)
        self._carry = [flat[rest:]] if rest < len(flat) and not final else []
        self._carry_len = len(flat) - rest if self._carry else 0
        self._carry_docs = [(off - rest, i, lang) for off, i, lang in self._carry_docs[keep:]] if self._carry else []

    def _add_row(self, tokens: np.ndarray, doc_id: str, lang: str | None, doc_starts: int) -> None:
        p = self._pending
        n_tokens = len(tokens)
        p.tokens.append(tokens)
        p.lengths.append(n_tokens)
        p.ids.append(doc_id)
        p.langs.append(lang)
        p.doc_starts += doc_starts
        p.n_tokens += n_tokens
        if self._shard["tokens"] + p.n_tokens >= self.shard_tokens:
            self._write_pending()
            self._finish_shard()
        elif p.n_tokens >= BATCH_TOKENS:
            self._write_pending()

    # -- output ----------------------------------------------------------------------------------------------
    def _write_pending(self) -> None:
        if not self._pending.ids:
            return
        tokens, lengths, ids, langs, doc_starts = self._pending.take()
        offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        n = len(ids)
        batch = pa.record_batch([
            pa.ListArray.from_arrays(pa.array(offsets), pa.array(tokens.astype(self.dtype, copy=False))),
            pa.array(ids, pa.string()),
            pa.array([self.subset] * n, pa.string()),
            pa.array([self.split] * n, pa.string()),
            pa.array(langs, pa.string()),
        ], schema=self.schema)
        if self._writer is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = self._part_name(len(self.parts))
            remove_stale(self.folder / name)  # a killed run's
            self._tmp = scratch_path(self.folder / name)
            self._sink = open(self._tmp, "wb")
            self._writer = pa.ipc.new_file(self._sink, self.schema)
        self._writer.write_batch(batch)
        self._shard["rows"] += n
        self._shard["documents"] += doc_starts
        self._shard["tokens"] += len(tokens)

    def _part_name(self, n: int) -> str:
        return f"part-{self.rank:05d}-{n:05d}.arrow"

    def _finish_shard(self) -> None:
        if self._writer is None:
            return
        self._writer.close()
        self._sink.flush()
        os.fsync(self._sink.fileno())
        self._sink.close()
        final = self.folder / self._part_name(len(self.parts))
        os.replace(self._tmp, final)
        self.parts.append({"subset": self.subset, "split": self.split, "bytes": final.stat().st_size,
                           "part": f"{self.subset}/{self.split}/{final.name}", **self._shard})
        self._writer = self._sink = self._tmp = None
        self._shard = {"rows": 0, "documents": 0, "tokens": 0}

    def close(self) -> list[dict]:
        if self._carry:
            self._cut_rows(final=True)
        self._write_pending()
        self._finish_shard()
        return self.parts

    def abort(self) -> None:
        """Drop the shard being written (its temp file), keep the finished ones."""
        if self._writer is not None:
            self._sink.close()
            self._tmp.unlink(missing_ok=True)
            self._writer = self._sink = self._tmp = None


# -- finalize ---------------------------------------------------------------------------------------------------
def rank_file(folder: Path, rank: int) -> Path:
    return Path(folder) / RANKS_DIR / f".rank-{rank:05d}.json"  # hidden: not an output, finalize's input


def finalize(folder: str | os.PathLike, world_size: int, tokenizer: dict, seq_len: int | None,
             shard_tokens: int) -> dict:
    """Rename every rank's parts to ``shard-NNNNN.arrow`` in (rank, n) order and write ``stats.json``.

    Idempotent: a rename already done (target present, source gone) is skipped, so a run killed half-way through
    finalizes on its rerun."""
    folder = Path(folder)
    ranks = []
    for rank in range(world_size):
        path = rank_file(folder, rank)
        if not path.is_file():
            raise RuntimeError(f"tokenize: rank {rank} of {world_size} did not finish ({path} is missing)")
        ranks.append(json.loads(path.read_text()))
    groups: dict[tuple[str, str], list[dict]] = {}
    for record in ranks:  # ranks in order, each rank's parts in the order it wrote them
        for part in record["parts"]:
            groups.setdefault((part["subset"], part["split"]), []).append(part)
    shards = []
    for (subset, split), parts in sorted(groups.items()):
        for n, part in enumerate(parts):
            src = folder / part["part"]
            rel = f"{subset}/{split}/shard-{n:05d}.arrow"
            dst = folder / rel
            if src.exists():
                os.replace(src, dst)
            elif not dst.exists():
                raise RuntimeError(f"tokenize: part {src} is missing and was not renamed to {dst}")
            shards.append({"path": rel, "subset": subset, "split": split, "rows": part["rows"],
                           "documents": part["documents"], "tokens": part["tokens"], "bytes": part["bytes"]})
    for stray in folder.rglob(".*.tmp-*"):  # temp files of killed attempts
        stray.unlink()
    counts: dict[tuple, list[int]] = {}
    dropped: dict[str, int] = {}
    for record in ranks:
        for c in record["counts"]:
            acc = counts.setdefault((c["subset"], c["split"], c["lang"]), [0, 0])
            acc[0] += c["documents"]
            acc[1] += c["tokens"]
        for reason, n in record.get("dropped", {}).items():
            dropped[reason] = dropped.get(reason, 0) + n
    count_list = [{"subset": s, "split": sp, "lang": lang, "documents": d, "tokens": t}
                  for (s, sp, lang), (d, t) in sorted(counts.items(), key=lambda kv: tuple(x or "" for x in kv[0]))]
    stats = {
        "format": STATS_FORMAT,
        "tokenizer": tokenizer,
        "seq_len": seq_len,
        "shard_tokens": shard_tokens,
        "totals": {"documents": sum(c["documents"] for c in count_list),
                   "tokens": sum(c["tokens"] for c in count_list), "shards": len(shards)},
        "counts": count_list,
        "shards": shards,
        "dropped": dict(sorted(dropped.items())),
    }
    atomic_json(folder / STATS_FILE, stats)
    return stats


# -- reading ----------------------------------------------------------------------------------------------------
def open_shard(path: str | os.PathLike) -> pa.Table:
    """A shard as a table backed by a memory map (no copy)."""
    return pa.ipc.open_file(pa.memory_map(str(path))).read_all()


def open_batches(path: str | os.PathLike):
    """A shard's record batches one at a time, memory-mapped."""
    reader = pa.ipc.open_file(pa.memory_map(str(path)))
    for i in range(reader.num_record_batches):
        yield reader.get_batch(i)


def token_chunks(table: pa.Table) -> list[np.ndarray]:
    """The shard's tokens, row after row, as zero-copy numpy arrays (one per record batch)."""
    out = []
    for chunk in table.column("input_ids").chunks:
        flat = chunk.flatten()
        if len(flat):
            out.append(flat.to_numpy(zero_copy_only=True))
    return out
