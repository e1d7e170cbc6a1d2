"""Joining a Lean file's theorems into one document, as Proof-Pile-2's ``lean_proofsteps`` has them."""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from proofpile.proofsteps.readers import LEAN_SOURCE

# per-theorem keys that do not describe the joined file
_THEOREM_KEYS = ("theorem", "statement", "line", "steps")


class LeanFileAssembler(PipelineStep):
    """Consecutive Lean proof-step documents of the same file (readers emit a file's theorems together) become one
    document ``lean-proofsteps:<path>`` whose text is their blocks in order and whose ``meta.theorems`` lists the
    theorem names. Other documents pass through unchanged."""

    type = "🔗 - GROUP"
    name = "🔗 Lean file assembler"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        group: list[Document] = []
        for doc in data:
            if doc.metadata.get("source") != LEAN_SOURCE:
                if group:
                    yield self.join(group)
                    group = []
                yield doc
                continue
            if group and group[0].metadata.get("path") != doc.metadata.get("path"):
                yield self.join(group)
                group = []
            group.append(doc)
        if group:
            yield self.join(group)

    def join(self, group: list[Document]) -> Document:
        self.stat_update("files")
        self.stat_update("theorems", value=len(group))
        first = group[0].metadata
        meta = {k: v for k, v in first.items() if k not in _THEOREM_KEYS}
        names = [d.metadata.get("theorem") for d in group]
        if any(names):
            meta["theorems"] = [n for n in names if n]
        meta["steps"] = sum(int(d.metadata.get("steps", 0)) for d in group)
        return Document(text="\n".join(d.text for d in group), id=f"{LEAN_SOURCE}:{first['path']}", metadata=meta)
