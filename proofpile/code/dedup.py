"""Exact dedup within a language, the same across any number of ranks, and the per-language table.

Ranks read sources sharded by file, so copies of a file can land on different ranks. ``PartitionByContent`` routes
every document to a bucket chosen by the hash of (language, content); the filtering pipeline writes one partition
per (bucket, rank) (``PartitionWriter``): the records, already as the contract shard will hold them, and beside them
their keys (content hash, id, language, sizes, where the record is). The dedup pipeline then runs one rank per
bucket: all copies of a (language, content) pair are in that bucket, so dedup there is global. The copy kept is the
one with the smallest id, chosen from the keys alone (so which copy survives does not depend on how many ranks there
were or in which order they finished); the kept records' bytes go to the contract shard as they are, never parsed.
"""

from __future__ import annotations

from collections import Counter
from typing import IO, Iterator, NamedTuple

import orjson
import xxhash
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.jsonl import JsonlWriter

from proofpile.contract import SerializedRecord, dumps
from proofpile.stats import add_counts, add_values

# (bucket, content hash, UTF-8 size of the text): from PartitionByContent to PartitionWriter, never in a record
PARTITION_KEY = "_partition"
RECORDS = ".jsonl"  # a partition's records, each line as ContractWriter writes it
KEYS = ".keys"  # one JSON line per record: Key
_CHUNK = 1 << 16  # a partition is read in chunks of this size (or of a longer record), never whole
_KEYS_KEPT = 1 << 16  # keys the first pass keeps for the second (a few hundred bytes each); past them, read again


class Key(NamedTuple):
    """What dedup needs of a partition's record, without reading it."""

    content: str  # xxh3_128 of lang\0text, hex
    id: str
    lang: str | None
    text_bytes: int
    text_chars: int
    offset: int  # of the record's line in its partition
    length: int
    checksum: int  # xxh3_64 of the line: a record damaged in place is not taken for its key's


def read_key(line: bytes | None) -> Key | None:
    """A line of a keys file, or None if it is not one."""
    try:
        content, doc_id, lang, text_bytes, text_chars, offset, length, checksum = values = orjson.loads(line)
    except (orjson.JSONDecodeError, TypeError, ValueError):  # not JSON, not a list of 8
        return None
    if (content.__class__ is str and doc_id.__class__ is str and doc_id and (lang is None or lang.__class__ is str)
            and text_bytes.__class__ is int and text_chars.__class__ is int and offset.__class__ is int
            and length.__class__ is int and checksum.__class__ is int and text_bytes >= 0 and text_chars >= 0
            and offset >= 0 and length > 0):
        return tuple.__new__(Key, values)
    return None


class PartitionByContent(PipelineStep):
    """Tags each document with its dedup bucket and content hash (``meta._partition``, for the writer)."""

    type = "🫂 - DEDUP"
    name = "🪣 Partition by content"

    def __init__(self, buckets: int):
        super().__init__()
        self.buckets = buckets

    def run(self, data, rank: int = 0, world_size: int = 1):
        prefixes: dict = {}  # language -> (its prefix, the prefix's UTF-8 size)
        for doc in data:
            lang = doc.metadata.get("lang", "")
            prefix = prefixes.get(lang)
            if prefix is None:
                text = f"{lang}\0"
                prefix = prefixes[lang] = (text, len(text.encode("utf-8", "surrogatepass")))
            key = f"{prefix[0]}{doc.text}".encode("utf-8", "surrogatepass")
            content = xxhash.xxh3_128_hexdigest(key)
            bucket = f"{int(content[:16], 16) % self.buckets:05d}" if self.buckets != 1 else "00000"
            doc.metadata[PARTITION_KEY] = (bucket, content, len(key) - prefix[1])
            yield doc


class PartitionWriter(JsonlWriter):
    """Writes each document to its bucket's partition: ``<bucket>/<rank>.jsonl``, the contract records as
    ``ContractWriter`` writes them but uncompressed, and ``<bucket>/<rank>.keys``, one ``Key`` per record. Partitions
    are scratch, read back by the dedup pipeline on the same disk and then deleted; the contract's zstd (level 10)
    cost more time than every other step after the filters."""

    name = "🪣 Partition writer"

    def __init__(self, output_folder: DataFolderLike):
        super().__init__(output_folder, output_filename="${bucket}/${rank}" + RECORDS, compression=None)

    def run(self, data, rank: int = 0, world_size: int = 1):
        """datatrove's ``DiskWriter.run`` without its per-document bookkeeping (a timer, a file-name template filled
        twice, length stats): on scratch files read back at once, that cost more than the writing. The count is
        kept (``total``). A document the contract refuses (no id, no text) is dropped here, with its reason: its
        record is never read again before the shard."""
        partitions: dict[str, _Partition] = {}
        written = 0
        refused: Counter = Counter()
        with self:
            try:
                for doc in data:
                    bucket, content, text_bytes = doc.metadata.pop(PARTITION_KEY)
                    if not (doc.id.__class__ is str and doc.id and doc.text):
                        has_id = doc.id.__class__ is str and doc.id
                        refused["dropped_missing_text" if has_id else "dropped_missing_id"] += 1
                        continue
                    partition = partitions.get(bucket)
                    if partition is None:
                        name = f"{bucket}/{rank:05d}"
                        partition = partitions[bucket] = _Partition(self._get_output_file_with_retry(name + RECORDS),
                                                                    self._get_output_file_with_retry(name + KEYS))
                    partition.add(dumps(doc), (content, doc.id, doc.metadata.get("lang"), text_bytes, len(doc.text)))
                    written += 1
                    yield doc
            finally:
                for partition in partitions.values():
                    partition.flush()
        add_counts(self.stats, {"total": written, **refused})


class _Partition:
    """A partition's two files, written a block at a time: a write per record (a system call every 8 KB) cost
    four times the bytes."""

    BLOCK = 1 << 18

    def __init__(self, records: IO[bytes], keys: IO[bytes]):
        self.records, self.keys = records, keys
        self.size = 0  # of the records written or pending
        self.lines: list[bytes] = []
        self.key_lines: list[bytes] = []
        self.pending = 0

    def add(self, line: bytes, key: tuple):
        """A record's line and its ``Key`` but the last two values (where the line is)."""
        self.lines.append(line)
        self.key_lines.append(orjson.dumps((*key, self.size, len(line), xxhash.xxh3_64_intdigest(line)),
                                           option=orjson.OPT_APPEND_NEWLINE))
        self.size += len(line)
        self.pending += len(line)
        if self.pending >= self.BLOCK:
            self.flush()

    def flush(self):
        self.records.write(b"".join(self.lines))
        self.keys.write(b"".join(self.key_lines))
        self.lines.clear()
        self.key_lines.clear()
        self.pending = 0


class ExactDedupWithinLanguage(PipelineStep):
    """Reads bucket ``rank`` of the partitions and yields one record per (language, content), the smallest id, as a
    ``SerializedRecord``. A partition's records its keys do not find whole (a truncated or damaged scratch file) are
    dropped and counted (``dropped_damaged_partition``)."""

    type = "🫂 - DEDUP"
    name = "🎯 Exact dedup within language"

    def __init__(self, partitions: DataFolderLike):
        super().__init__()
        self.partitions = partitions

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        if data:
            yield from data
        folder = get_datafolder(self.partitions)
        bucket = f"{rank:05d}"
        if not folder.isdir(bucket):
            return
        names = [path.removesuffix(RECORDS) for path in sorted(folder.list_files(bucket, glob_pattern="*" + RECORDS))]
        keeper: dict[str, str] = {}  # from whole records only: a damaged copy never stands in for the others
        kept_keys: dict[str, list[Key]] = {}  # an undamaged partition's keys, for the second pass
        room = _KEYS_KEPT
        for name in names:
            damage: Counter = Counter()  # (counted by the second pass)
            keys: list[Key] | None = []
            for key, _ in self._whole_records(folder, name, damage):
                if key.content not in keeper or key.id < keeper[key.content]:
                    keeper[key.content] = key.id
                if keys is not None:
                    keys.append(key)
                    if len(keys) > room:
                        keys = None
            if keys is not None and not damage["dropped_damaged_partition"]:
                kept_keys[name] = keys
                room -= len(keys)
        dropped: Counter = Counter()
        try:
            for name in names:
                keys = kept_keys.pop(name, None)
                records = self._whole_records(folder, name, dropped) if keys is None else \
                    self._records_of(folder, name, keys, dropped)
                for key, line in records:
                    if keeper.get(key.content) == key.id:
                        del keeper[key.content]  # a second record with the same id and content is a duplicate too
                        yield SerializedRecord(key.id, line, key.text_chars, key.text_bytes, {"lang": key.lang})
                    else:
                        dropped["dropped_duplicate"] += 1
                        dropped[f"lang/{key.lang}/duplicates"] += 1
        finally:
            add_counts(self.stats, dropped)

    def _keys(self, folder, name: str) -> Iterator[Key | None]:
        """The keys file's lines as keys (None for a line that is not one, or once for a file that cannot be read
        to its end), as ``iter_lines`` would give them: a keys file is not compressed, so its lines are cut from
        each chunk read, without a copy of each line."""
        if not folder.isfile(name + KEYS):
            return
        with folder.open(name + KEYS, "rb") as f:
            pending = b""
            try:
                while chunk := f.read(_CHUNK):
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        yield read_key(line)
            except OSError:
                yield None
                return
            if pending:
                yield read_key(pending)  # a last line without its newline

    def _records_of(self, folder, name: str, keys: list[Key], dropped: Counter) -> Iterator[tuple[Key, memoryview]]:
        """``_whole_records`` of a partition the first pass found undamaged, from the keys it read: the records are
        cut from the file where the keys say, without reading and checking the keys again (a record changed since,
        its checksum no longer equal, is counted as damaged)."""
        checksum = xxhash.xxh3_64_intdigest
        with folder.open(name + RECORDS, "rb") as f:
            window = _Window(f)
            for key in keys:
                line = window.get(key.offset, key.offset + key.length)
                if line is None or checksum(line) != key.checksum:
                    dropped["dropped_damaged_partition"] += 1
                    continue
                yield key, line
        dropped["dropped_damaged_partition"] += 0  # where _whole_records puts it: the stats' order is the same

    def _whole_records(self, folder, name: str, dropped: Counter) -> Iterator[tuple[Key, memoryview]]:
        """(key, line) of each record of a partition that its key finds whole (within the file, its checksum
        equal), in order. Records lost to damage are counted once each (``dropped_damaged_partition``): a bad key
        before the last whole record stands for one record; past it, the larger of the keys left and the lines
        left."""
        size = folder.size(name + RECORDS)
        checksum = xxhash.xxh3_64_intdigest
        with folder.open(name + RECORDS, "rb") as f:
            window = _Window(f)
            done = 0  # the end of the last whole record
            unmatched = 0  # keys since then that found none
            for key in self._keys(folder, name):
                # a key must point past the last whole record (records are in order), within the file
                if key is None or key.offset < window.start or key.offset < done or key.offset + key.length > size:
                    unmatched += 1
                    continue
                line = window.get(key.offset, key.offset + key.length)
                if line is None or checksum(line) != key.checksum:
                    unmatched += 1
                    continue
                if unmatched:
                    dropped["dropped_damaged_partition"] += unmatched
                    unmatched = 0
                done = key.offset + key.length
                yield key, line
            last, lines_left = b"", 0  # records past the last whole one: none, unless the keys end before them
            rest = window.chunk[max(done - window.start, 0):] or f.read(_CHUNK)
            while rest:
                lines_left += rest.count(b"\n")
                last, rest = rest, f.read(_CHUNK)
            lines_left += bool(last) and not last.endswith(b"\n")
            dropped["dropped_damaged_partition"] += max(unmatched, lines_left)


class _Window:
    """A file's bytes read in order, a chunk at a time: ``get`` the bytes from ``offset`` to ``end`` (offsets that
    only grow), as a view of the chunk that holds them, or None past the end of the file."""

    def __init__(self, f: IO[bytes]):
        self.f = f
        self.chunk, self.start = b"", 0  # the file's bytes from offset start
        self.view = memoryview(self.chunk)

    def get(self, offset: int, end: int) -> memoryview | None:
        chunk, start = self.chunk, self.start
        if start + len(chunk) < end:
            while start + len(chunk) < end:  # read on, keeping what is read from offset on
                more = self.f.read(max(_CHUNK, end - start - len(chunk)))
                if not more:
                    break
                if offset >= start + len(chunk):
                    chunk, start = more, start + len(chunk)
                else:
                    chunk, start = chunk[offset - start:] + more, offset
            self.chunk, self.start, self.view = chunk, start, memoryview(chunk)
            if end > start + len(chunk):
                return None
        return self.view[offset - start:end - start]


class LanguageStats(PipelineStep):
    """Counts what is written, per language: ``lang/<Language>/files`` and ``lang/<Language>/bytes``."""

    type = "📊 - STATS"
    name = "🔣 Language table"

    def run(self, data, rank: int = 0, world_size: int = 1):
        sizes: dict[str, list[int]] = {}  # added to the stats at the end: a stat_update per document cost more
        try:
            for doc in data:
                size = doc.text_bytes if doc.__class__ is SerializedRecord else len(doc.text.encode("utf-8"))
                lang = doc.metadata.get("lang")
                values = sizes.get(lang)
                if values is None:  # (not setdefault: its default list would be made for every document)
                    values = sizes[lang] = []
                values.append(size)
                yield doc
        finally:
            add_counts(self.stats, {f"lang/{lang}/files": len(values) for lang, values in sizes.items()})
            for lang, values in sizes.items():
                add_values(self.stats, f"lang/{lang}/bytes", values)
