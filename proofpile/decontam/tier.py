"""What both decontamination tiers (n-gram, paraphrase) share: a drop-or-report action per subset, the hits file
``hits_folder/<rank>.jsonl`` (one JSON line per flagged (document, item), written as found; the report streams
these files), and a ``run`` that counts each batch's documents at once.

datatrove's ``BaseFilter.run`` makes three ``stat_update`` calls per document (``total``, ``forwarded``,
``doc_len``): at the n-gram tier's speed that was a sixth of its time. Here a batch's counters are merged in one
step each (``proofpile.stats.add_counts``/``add_values``: the same totals), and each dropped document still counts its reason.
"""

from __future__ import annotations

import orjson
from datatrove.data import Document, DocumentsPipeline
from datatrove.io import DataFolderLike, get_datafolder
from datatrove.pipeline.filters.base_filter import BaseFilter, get_filter_result
from datatrove.utils.typeshelper import StatHints

from proofpile.batches import sized_batches
from proofpile.stats import add_counts, add_values

ACTIONS = ("drop", "report")


def checked_actions(action: str, actions: dict[str, str] | None) -> tuple[str, dict[str, str]]:
    """The default action and the per-subset ones, each ``drop`` or ``report`` (anything else would silently
    drop)."""
    actions = dict(actions or {})
    for a in [action, *actions.values()]:
        if a not in ACTIONS:
            raise ValueError(f"decontamination action must be drop or report, got {a!r}")
    return action, actions


class DecontaminationTier(BaseFilter):
    """A filter over batches of documents against a benchmark index; subclasses define ``filter_batch`` and
    write their hits with ``write_hit``."""

    def __init__(self, index_folder: DataFolderLike, hits_folder: DataFolderLike, action: str = "drop",
                 actions: dict[str, str] | None = None, batch_size: int = 256, batch_chars: int | None = None):
        super().__init__(batch_size=batch_size)
        self.batch_chars = batch_chars  # a batch also ends at this many characters of text (its arrays' size)
        self.index_folder = get_datafolder(index_folder)
        self.hits_folder = get_datafolder(hits_folder)
        self.action, self.actions = checked_actions(action, actions)
        self._hits_file = None

    def action_for(self, doc: Document) -> tuple[str, str]:
        """(subset, action) of a document."""
        subset = doc.metadata.get("subset") or "unknown"
        return subset, self.actions.get(subset, self.action)

    def write_hit(self, record: dict) -> None:
        self._hits_file.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        with self.hits_folder.open(f"{rank:05d}.jsonl", "wb") as self._hits_file:
            for batch in sized_batches(data if data is not None else (), self.batch_size, self.batch_chars):
                self.stat_update("batches")
                with self.track_time("batch"):
                    results = self.filter_batch(batch)
                kept = batch if all(r is True for r in results) else []
                if kept is not batch:
                    for doc, result in zip(batch, results):
                        ok, reason = get_filter_result(result)
                        if ok:
                            kept.append(doc)
                        else:
                            self.stat_update(StatHints.dropped, *([f"dropped_{reason}"] if reason else []))
                add_counts(self.stats, {StatHints.total: len(batch), StatHints.forwarded: len(kept)})
                add_values(self.stats, "doc_len", [len(d.text) for d in kept])
                yield from kept
        self._hits_file = None
