"""Deterministic train/validation/test splits.

A document's split is a function of ``hash(seed, id)`` only -- never of its position, its shard or the other
documents -- so adding documents (or resharding) never moves an existing one.
"""

from __future__ import annotations

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from xxhash import xxh3_64_intdigest


def split_of(doc_id: str, seed: int, validation: float, test: float) -> str:
    u = xxh3_64_intdigest(doc_id.encode("utf-8"), seed) / 2**64  # uniform in [0, 1)
    if u < validation:
        return "validation"
    if u < validation + test:
        return "test"
    return "train"


class SplitAssigner(PipelineStep):
    """Sets ``meta.split`` to train, validation or test from the document id (fractions may differ per subset)."""

    type = "🔀 - SPLIT"
    name = "🔀 Split assigner"

    def __init__(self, seed: int = 0, validation: float = 0.005, test: float = 0.005,
                 per_subset: dict[str, dict[str, float]] | None = None):
        super().__init__()
        self.seed = seed
        self.fractions = {"*": (validation, test)}
        for subset, frac in (per_subset or {}).items():
            self.fractions[subset] = (frac.get("validation", validation), frac.get("test", test))
        for subset, (v, t) in self.fractions.items():
            if not (0 <= v and 0 <= t and v + t <= 1):
                raise ValueError(f"split fractions for {subset}: validation={v}, test={t} must be >= 0, sum <= 1")

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            with self.track_time():
                v, t = self.fractions.get(doc.metadata.get("subset"), self.fractions["*"])
                doc.metadata["split"] = split = split_of(doc.id, self.seed, v, t)
                self.stat_update(f"split_{split}")
            yield doc
