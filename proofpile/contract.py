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

One ``meta`` schema in every shard (``META_FIELDS``): the writer puts every declared key in every record, in one
order, with its declared type, so that ``datasets.load_dataset("json", ...)``, polars and duckdb infer one schema for
a whole folder as it is. A key a document lacks gets its type's empty value (``""``, ``-1``, ``-1.0``: counts,
offsets and scores are never negative; a real ``-1`` is kept in ``extra``) instead of ``null``: these tools type a
column from the first file they read, and a column that is ``null`` throughout that file (``url`` in a code shard)
is typed ``null`` and then refuses the strings of the next. Free-form values (``json`` fields, e.g.
``math_sources``) are JSON text. Keys not declared, and values not of their declared type, go into ``meta.extra``
(a JSON object as text, ``""`` when empty): nothing is lost. Reading reverses all of it, so a stage sees the
metadata it was given.

Stage boundaries validate: ``ContractReader`` drops a malformed record -- a bad JSON line, bytes that are not UTF-8,
a missing or empty ``id``/``text``, a ``meta`` that is not an object -- and counts it with its reason in the stage's
stats; a truncated zstd frame ends that file (its complete records are kept) and is counted too. Nothing raises.
"""

from __future__ import annotations

import math
import numbers
import zlib
from dataclasses import dataclass
from time import perf_counter
from typing import IO, Iterator

import orjson
import zstandard
from datatrove.data import Document
from datatrove.io import DataFolderLike
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.writers.jsonl import JsonlWriter, _json_default

from proofpile.names import SUBSETS as SUBSETS  # the subsets a document's meta.subset names
from proofpile.stats import add_counts, add_times, add_values

SHARD_SUFFIX = ".jsonl.zst"
# datatrove readers add these to metadata; they describe our own intermediate files, not the document
_READER_KEYS = ("file_path",)

# every meta key of every shard, in record order, with its type: "string", "int", "float" or "json" (JSON text)
META_FIELDS = {
    # every subset
    "subset": "string", "source": "string", "split": "string", "lang": "string", "license": "string",
    "url": "string", "duplicate_count": "int", "filter_reason": "string",  # datatrove's exclusion writers
    # open-web-math: the WARC record, extraction and filter scores
    "warc_file": "string", "warc_offset": "int", "warc_record_id": "string", "warc_date": "string",
    "crawl": "string", "charset": "string", "lang_score": "float", "math_score": "float", "perplexity": "float",
    "math_marker": "string", "math_display": "int", "math_inline": "int", "math_sources": "json",
    # algebraic-stack: files of repositories, notebooks, proof steps
    "repo": "string", "path": "string", "commit": "string", "kernel_language": "string", "format": "string",
    "module": "string", "theory": "string", "theorem": "string", "statement": "string", "theorems": "json",
    "steps": "int", "index": "int",
    # arxiv
    "arxiv_id": "string", "yymm": "string", "version": "string", "language": "string", "timestamp": "string",
    "source_file": "string", "main_file": "string", "source_kind": "string",
}
EXTRA = "extra"  # undeclared keys, as JSON text
EMPTY = {"string": "", "int": -1, "float": -1.0, "json": ""}
_EMPTY_META = {key: EMPTY[kind] for key, kind in META_FIELDS.items()}
_JSON_FIELDS = {key for key, kind in META_FIELDS.items() if kind == "json"}
_STRING_FIELDS = frozenset(key for key, kind in META_FIELDS.items() if kind == "string" and key not in _READER_KEYS)


def _typed(kind: str, value):
    """``value`` as a ``kind`` field, or None when it is not one (it then goes into ``extra``)."""
    if kind == "string":
        return value if isinstance(value, str) else None
    if isinstance(value, bool):
        return None
    if kind == "int":
        if isinstance(value, numbers.Integral) or (isinstance(value, numbers.Real) and float(value).is_integer()):
            return int(value)
        return None
    if kind == "float":
        return float(value) if isinstance(value, numbers.Real) and math.isfinite(value) else None
    return _json_text(value)


def _json_text(value) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_SERIALIZE_NUMPY, default=_json_default).decode()


def typed_meta(metadata: dict) -> dict:
    """Metadata -> the ``meta`` of a record: every declared key, typed, then ``extra``."""
    out, extra = dict(_EMPTY_META), None  # every declared key in order, empty; then filled in
    for key, value in metadata.items():
        if value.__class__ is str and key in _STRING_FIELDS:  # the common case, first
            out[key] = value
            continue
        if key in _READER_KEYS or value is None:
            continue
        kind = META_FIELDS.get(key)
        typed = _typed(kind, value) if kind else None
        if typed is None or (kind != "string" and typed == EMPTY[kind]):
            if extra is None:
                extra = {}
            extra[key] = value  # undeclared, mistyped, or a real -1 that would read back as absent
        else:
            out[key] = typed
    out[EXTRA] = _json_text(extra) if extra else ""
    return out


def plain_meta(meta: dict) -> dict:
    """A record's ``meta`` -> the metadata it was written from (``typed_meta`` reversed). Metadata without ``extra``
    (written by something else) passes unchanged."""
    extra = meta.get(EXTRA)
    if extra is None:
        return meta
    # the empty values of every declared type ("" and -1 == -1.0); undeclared keys are all inside extra
    out = {k: v for k, v in meta.items() if v != "" and v != -1 and v is not None}
    out.pop(EXTRA, None)
    for key in _JSON_FIELDS & out.keys():
        if isinstance(out[key], str):
            try:
                out[key] = orjson.loads(out[key])
            except orjson.JSONDecodeError:
                pass
    if extra and isinstance(extra, str):
        try:
            extra = orjson.loads(extra)
        except orjson.JSONDecodeError:
            extra = None
        if isinstance(extra, dict):
            out.update(extra)
    return out


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
    return Document(text=record["text"], id=record["id"], metadata=plain_meta(record.get("meta") or {})), None


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
    return {"id": doc.id, "text": doc.text, "meta": typed_meta(doc.metadata)}


def dumps(doc: Document) -> bytes:
    return orjson.dumps(to_record(doc), option=orjson.OPT_APPEND_NEWLINE, default=_json_default)


@dataclass(slots=True)
class SerializedRecord:
    """A record already in its contract form: ``line`` is its JSON line as ``dumps`` wrote it (bytes or a memoryview
    of them). ``ContractWriter`` writes it as it is; the steps between see what is kept beside it, never the line."""

    id: str
    line: bytes | memoryview
    text_chars: int  # len(text), datatrove's doc_len
    text_bytes: int  # the text's UTF-8 size
    metadata: dict  # the meta keys steps between may need (e.g. lang)


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

    Compressed here at ``level`` (1, zstd's fastest regular level) rather than by fsspec, whose zstd level is fixed at
    10: at 10 the compression cost more than reading the input of the arxiv and code stages. Level 1 writes ~3% more
    bytes than zstd's default 3 on arXiv text, and took a third less of the arxiv stage's writer time (its smaller
    tables stay in cache between documents)."""

    name = "📜 Contract writer"

    def __init__(self, output_folder: DataFolderLike, output_filename: str = "${rank}" + SHARD_SUFFIX,
                 level: int = 1, **kwargs):
        if kwargs.get("max_file_size", -1) > 0:
            raise ValueError("ContractWriter writes one zstd frame per shard: max_file_size is not supported")
        super().__init__(output_folder, output_filename=output_filename, compression=None,
                         adapter=record_adapter, **kwargs)
        self.level = level
        self._frames: dict[str, zstandard.ZstdCompressionWriter] = {}
        # a name that depends on the rank only (the default) is filled once per rank, not twice per document
        self._names_by_rank = {} if self.output_filename.get_identifiers() == ["rank"] else None

    def _get_output_file_with_retry(self, filename: str):
        # datatrove retries opening (a Hub folder's transient errors) on every document: only an opening can fail
        file = self.output_mg.get_open_files().get(filename)
        return file if file is not None else super()._get_output_file_with_retry(filename)

    def _get_output_filename(self, document: Document, rank: int | str = 0, **kwargs) -> str:
        if self._names_by_rank is None or kwargs:
            return super()._get_output_filename(document, rank, **kwargs)
        name = self._names_by_rank.get(rank)
        if name is None:
            name = self._names_by_rank[rank] = self.output_filename.substitute(rank=str(rank).zfill(5))
        return name

    def _write(self, document: dict, file_handler, filename: str):
        self._write_line(orjson.dumps(document, option=orjson.OPT_APPEND_NEWLINE, default=_json_default),
                         file_handler, filename)

    def _write_line(self, line: bytes | memoryview, file_handler, filename: str):
        frame = self._frames.get(filename)
        if frame is None:
            frame = self._frames[filename] = zstandard.ZstdCompressor(level=self.level).stream_writer(
                file_handler, closefd=False)
        frame.write(line)

    def run(self, data, rank: int = 0, world_size: int = 1):
        """datatrove's ``DiskWriter.run``, and a ``SerializedRecord`` written as it is, into the rank's shard, its
        stats (the shard's count, ``total``, ``doc_len``, times) added once at the end: per record they cost more
        than its writing."""
        chars, times = [], []
        frame = None  # the rank's shard, once open
        try:
            with self:
                for doc in data:
                    if doc.__class__ is not SerializedRecord:
                        with self.track_time():
                            self.write(doc, rank)
                    else:
                        start = perf_counter()
                        if frame is None:
                            name = self._serialized_name(rank)
                            self._write_line(doc.line, self._get_output_file_with_retry(name), name)
                            frame = self._frames[name]
                        else:
                            frame.write(doc.line)
                        times.append(perf_counter() - start)
                        chars.append(doc.text_chars)
                    yield doc
        finally:
            if chars:
                add_counts(self.stats, {self._serialized_name("XXXXX"): len(chars), "total": len(chars)})
                add_values(self.stats, "doc_len", chars)
                add_times(self.stats, times)

    def _serialized_name(self, rank) -> str:
        if self._names_by_rank is None:
            raise ValueError(f"ContractWriter: a serialized record has no metadata to fill "
                             f"{self.output_filename.template!r}; it is written to files named by rank only")
        return self._get_output_filename(None, rank)

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
