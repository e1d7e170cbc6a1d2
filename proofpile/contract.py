"""The one document contract between stages.

Every stage reads and writes shards of zstd-compressed JSON lines (``*.jsonl.zst``), one record per line, in the
shape Proof-Pile-2 was published in::

    {"id": str, "text": str, "meta": {...}}

- ``id``: non-empty string, unique within a subset and stable across reruns (derived from the source: WARC record
  id, repo/path/commit, arXiv id, ...), never from a position in a run.
- ``text``: non-empty UTF-8 string, the document as a model will see it.
- ``meta``: a JSON object. Always ``subset`` (one of ``SUBSETS``) and ``source`` (which reader produced it);
  provenance where known: ``url``, ``warc_file``/``warc_offset``/``crawl``; ``repo``/``path``/``commit``/``license``;
  ``arxiv_id``/``yymm``; ``lang`` (natural or programming language). Stages add their own keys (scores, splits)
  and never remove upstream ones.

In memory a record is a datatrove ``Document(text, id, metadata=meta)``.

Stage boundaries validate: ``ContractReader`` drops a malformed record -- a bad JSON line, bytes that are not UTF-8,
a missing or empty ``id``/``text``, a ``meta`` that is not an object -- and counts it with its reason in the stage's
stats; a truncated zstd frame ends that file (its complete records are kept) and is counted too. Nothing raises.
"""

from __future__ import annotations

import zlib
from typing import IO, Iterator

import orjson
import zstandard
from datatrove.data import Document
from datatrove.io import DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.writers.jsonl import JsonlWriter, _json_default

from proofpile.names import SUBSETS as SUBSETS  # the subsets a document's meta.subset names

SHARD_SUFFIX = ".jsonl.zst"
# datatrove readers add these to metadata; they describe our own intermediate files, not the document
_READER_KEYS = ("file_path",)


def parse_record(line: bytes) -> tuple[Document | None, str | None]:
    """One JSON line -> (Document, None) or (None, drop reason)."""
    try:
        record = orjson.loads(line)  # validates UTF-8 itself: the reasons are worked out only for a failure
    except orjson.JSONDecodeError:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return None, "non_utf8"
        return None, "bad_json" if line.strip() else "blank_line"
    reason = record_error(record)
    if reason:
        return None, reason
    return Document(text=record["text"], id=record["id"], metadata=record.get("meta") or {}), None


def record_error(record) -> str | None:
    """The reason a parsed record breaks the contract, or None if it is valid."""
    if not isinstance(record, dict):
        return "not_an_object"
    if not isinstance(record.get("id"), str) or not record["id"]:
        return "missing_id"
    if not isinstance(record.get("text"), str) or not record["text"]:
        return "missing_text"
    if "meta" in record and not isinstance(record["meta"], (dict, type(None))):
        return "bad_meta"
    return None


def to_record(doc: Document) -> dict:
    meta = {k: v for k, v in doc.metadata.items() if k not in _READER_KEYS}
    return {"id": doc.id, "text": doc.text, "meta": meta}


def dumps(doc: Document) -> bytes:
    return orjson.dumps(to_record(doc), option=orjson.OPT_APPEND_NEWLINE, default=_json_default)


_CHUNK = 1 << 16


def iter_lines(raw: IO[bytes], path: str) -> Iterator[bytes | None]:
    """Yield the complete lines of a (possibly compressed) file; yield ``None`` once if the file turns out to be
    truncated or corrupt. Decompression is incremental, so every line before the damage is still yielded."""
    if path.endswith(".zst"):
        dec = zstandard.ZstdDecompressor().decompressobj()
        decompress, finished = dec.decompress, lambda: dec.eof
    elif path.endswith(".gz"):
        dec = zlib.decompressobj(wbits=47)
        decompress, finished = dec.decompress, lambda: dec.eof
    else:
        decompress, finished = (lambda b: b), (lambda: True)
    pending = b""
    try:
        while chunk := raw.read(_CHUNK):
            pending += decompress(chunk)
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line + b"\n"
        damaged = not finished()
    except (zstandard.ZstdError, zlib.error, EOFError, OSError):
        damaged = True
    if damaged:
        yield None
    elif pending:
        yield pending  # a last line without its newline


class ContractReader(BaseDiskReader):
    """Reads contract shards (``.jsonl.zst``, also ``.jsonl.gz``/``.jsonl``), dropping malformed records with a
    reason instead of failing the task."""

    name = "📜 Contract reader"

    def __init__(self, data_folder: DataFolderLike, glob_pattern: str | None = "**/*.jsonl*", **kwargs):
        super().__init__(data_folder, glob_pattern=glob_pattern, add_file_path=False, **kwargs)

    def read_file(self, filepath: str) -> Iterator[Document]:
        with self.data_folder.open(filepath, "rb") as raw:
            for line in iter_lines(raw, filepath):
                if line is None:
                    # truncated or corrupt: the complete records before the damage are already out
                    self.stat_update("dropped_truncated_file")
                    return
                doc, reason = parse_record(line)
                if doc is None:
                    self.stat_update(f"dropped_{reason}")
                    continue
                yield doc


class ContractWriter(JsonlWriter):
    """Writes contract shards: ``{"id", "text", "meta"}`` lines, zstd-compressed, one file per rank (and per any
    metadata tag used in ``output_filename``, e.g. ``${subset}/${split}/${rank}.jsonl.zst``).

    Compressed here at ``level`` (zstd's default, 3) rather than by fsspec, whose zstd level is fixed at 10: at 10
    the compression cost more than reading the input of the arxiv and code stages; 3 keeps most of the ratio for a
    fraction of the time."""

    name = "📜 Contract writer"

    def __init__(self, output_folder: DataFolderLike, output_filename: str = "${rank}" + SHARD_SUFFIX,
                 level: int = 3, **kwargs):
        if kwargs.get("max_file_size", -1) > 0:
            raise ValueError("ContractWriter writes one zstd frame per shard: max_file_size is not supported")
        super().__init__(output_folder, output_filename=output_filename, compression=None,
                         adapter=record_adapter, **kwargs)
        self.level = level
        self._frames: dict[str, zstandard.ZstdCompressionWriter] = {}

    def _write(self, document: dict, file_handler, filename: str):
        frame = self._frames.get(filename)
        if frame is None:
            frame = self._frames[filename] = zstandard.ZstdCompressor(level=self.level).stream_writer(
                file_handler, closefd=False)
        frame.write(orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE, default=_json_default))

    def close_file(self, filename):
        if (frame := self._frames.pop(filename, None)) is not None:
            frame.close()  # ends the frame; the file itself is closed by datatrove
        super().close_file(filename)

    def close(self):
        for frame in self._frames.values():
            frame.close()
        self._frames.clear()
        super().close()


def record_adapter(writer, doc: Document) -> dict:
    """``to_record`` as a datatrove writer adapter (called with the writer first)."""
    return to_record(doc)
