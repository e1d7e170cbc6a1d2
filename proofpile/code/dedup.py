"""Exact dedup within a language, the same across any number of ranks, and the per-language table.

Ranks read sources sharded by file, so copies of a file can land on different ranks. ``PartitionByContent`` routes
every document to a bucket chosen by the hash of (language, content); the filtering pipeline writes one partition
file per (bucket, rank) (``PartitionWriter``). The dedup pipeline then runs one rank per bucket: all copies of a (language, content) pair
are in that bucket, so dedup there is global. Within a bucket the copy kept is the one with the smallest id, read
in two passes (first the smallest id per hash, then the documents), so which copy survives does not depend on how
many ranks there were or in which order they finished.
"""

from __future__ import annotations

import orjson
import xxhash
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.jsonl import JsonlWriter

from proofpile.contract import ContractReader, iter_lines, scratch_adapter
from proofpile.stats import add_counts, add_values

BUCKET_KEY = "_dedup_bucket"
HASH_KEY = "_content_hash"
PARTITION_GLOB = "*.jsonl"


def content_hash(lang: str, text: str) -> str:
    return xxhash.xxh3_128_hexdigest(f"{lang}\0{text}".encode("utf-8", "surrogatepass"))


class PartitionByContent(PipelineStep):
    """Tags each document with its content hash and dedup bucket (``meta._dedup_bucket``, for the writer's file
    name)."""

    type = "🫂 - DEDUP"
    name = "🪣 Partition by content"

    def __init__(self, buckets: int):
        super().__init__()
        self.buckets = buckets

    def run(self, data, rank: int = 0, world_size: int = 1):
        for doc in data:
            h = content_hash(doc.metadata.get("lang", ""), doc.text)
            doc.metadata[HASH_KEY] = h
            doc.metadata[BUCKET_KEY] = f"{int(h[:16], 16) % self.buckets:05d}"
            yield doc


class PartitionWriter(JsonlWriter):
    """Writes each document to its bucket's partition, ``<bucket>/<rank>.jsonl``: contract records, uncompressed.
    Partitions are scratch, read back by the dedup pipeline on the same disk and then deleted; the contract's zstd
    (level 10) cost more time than every other step after the filters."""

    name = "🪣 Partition writer"

    def __init__(self, output_folder: DataFolderLike):
        super().__init__(output_folder, output_filename="${" + BUCKET_KEY + "}/${rank}.jsonl", compression=None,
                         adapter=scratch_adapter)

    def _get_output_file_with_retry(self, filename: str):
        # datatrove retries opening (a Hub folder's transient errors) on every document: only an opening can fail
        file = self.output_mg.get_open_files().get(filename)
        return file if file is not None else super()._get_output_file_with_retry(filename)

    def run(self, data, rank: int = 0, world_size: int = 1):
        """datatrove's ``DiskWriter.run`` without its per-document bookkeeping (a timer, a file-name template filled
        twice, length stats): on scratch files read back at once, that cost more than the writing. The count is
        kept (``total``)."""
        written = 0
        with self:
            for doc in data:
                name = f"{doc.metadata[BUCKET_KEY]}/{rank:05d}.jsonl"
                self._write(self.adapter(doc), self._get_output_file_with_retry(name), name)
                written += 1
                yield doc
        add_counts(self.stats, {"total": written})


class ExactDedupWithinLanguage(PipelineStep):
    """Reads bucket ``rank`` of the partitions and yields one document per (language, content): the smallest id."""

    type = "🫂 - DEDUP"
    name = "🎯 Exact dedup within language"

    def __init__(self, partitions: DataFolderLike):
        super().__init__()
        self.partitions = partitions

    def _reader(self, rank: int) -> ContractReader | None:
        folder = get_datafolder(self.partitions)
        bucket = f"{rank:05d}"
        if not folder.isdir(bucket):
            return None
        reader = ContractReader(folder.path + "/" + bucket, glob_pattern=PARTITION_GLOB)
        reader.stats = self.stats  # malformed partition lines are counted here
        return reader

    def _docs(self, rank: int):
        if (reader := self._reader(rank)) is not None:
            for path in sorted(reader.data_folder.list_files(glob_pattern=PARTITION_GLOB)):
                yield from reader.read_file(path)

    def _keys(self, rank: int):
        """(content hash, id) of each record, straight from the JSON: the first pass builds no documents."""
        if (reader := self._reader(rank)) is None:
            return
        for path in sorted(reader.data_folder.list_files(glob_pattern=PARTITION_GLOB)):
            with reader.data_folder.open(path, "rb") as f:
                for line in iter_lines(f, path):
                    try:
                        record = orjson.loads(line)
                        yield record["meta"][HASH_KEY], record["id"]
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        continue  # counted when the second pass reads it

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        if data:
            yield from data
        keeper: dict[str, str] = {}
        for h, doc_id in self._keys(rank):
            if isinstance(doc_id, str) and (h not in keeper or doc_id < keeper[h]):
                keeper[h] = doc_id
        for doc in self._docs(rank):
            meta = doc.metadata
            h = meta.pop(HASH_KEY)
            meta.pop(BUCKET_KEY, None)
            if keeper.get(h) == doc.id:
                del keeper[h]  # a second record with the same id and content is a duplicate too
                yield doc
            else:
                self.stat_update("dropped_duplicate", f"lang/{meta.get('lang')}/duplicates")


class LanguageStats(PipelineStep):
    """Counts what is written, per language: ``lang/<Language>/files`` and ``lang/<Language>/bytes``."""

    type = "📊 - STATS"
    name = "🔣 Language table"

    def run(self, data, rank: int = 0, world_size: int = 1):
        sizes: dict[str, list[int]] = {}  # added to the stats at the end: a stat_update per document cost more
        try:
            for doc in data:
                sizes.setdefault(doc.metadata.get("lang"), []).append(len(doc.text.encode("utf-8")))
                yield doc
        finally:
            add_counts(self.stats, {f"lang/{lang}/files": len(values) for lang, values in sizes.items()})
            for lang, values in sizes.items():
                add_values(self.stats, f"lang/{lang}/bytes", values)
