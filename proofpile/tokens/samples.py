"""A small contract corpus for tests and benchmarks, grown from ``proofpile/samples/tokenize/documents.jsonl``."""

from __future__ import annotations

import random
from pathlib import Path

import orjson
from datatrove.data import Document

from proofpile.contract import SUBSETS, ContractWriter

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "tokenize" / "documents.jsonl"


def sample_documents() -> list[dict]:
    return [orjson.loads(line) for line in SAMPLES.read_bytes().splitlines() if line.strip()]


def write_corpus(root: str | Path, per_split: dict[str, int] | None = None, files: int = 2, seed: int = 0,
                 folder: str = "decontam") -> dict[str, Document]:
    """Write ``<root>/<folder>/<subset>/<split>/NNNNN.jsonl.zst`` (``files`` per split) and return the documents
    by id. Document i of a subset is one of its samples repeated 1-4 times, with a line naming it: varied lengths,
    distinct texts, the same for the same arguments."""
    per_split = per_split or {"train": 60, "validation": 6, "test": 6}
    rng = random.Random(seed)
    samples = sample_documents()
    written = {}
    for subset in SUBSETS:
        mine = [s for s in samples if s["meta"]["subset"] == subset]
        for split, n in per_split.items():
            docs = []
            for i in range(n):
                sample = mine[i % len(mine)]
                text = "\n\n".join([sample["text"]] * rng.randint(1, 4)) + f"\n\n[{subset} {split} {i}]"
                meta = {**sample["meta"], "split": split}
                docs.append(Document(text=text, id=f"{subset}/{split}/{i:06d}", metadata=meta))
            out = Path(root) / folder / subset / split
            for k in range(files):
                with ContractWriter(str(out)) as writer:
                    for doc in docs[k::files]:
                        writer.write(doc, rank=k)
                        written[doc.id] = doc
    return written


def tokenize_corpus(root: str | Path, params: dict | None = None, tasks: int = 2, workers: int = 1,
                    per_split: dict[str, int] | None = None, config: str | Path | None = None):
    """Write the sample corpus as if the decontam stage had, then run the tokenize stage on it (the project's
    ``pipelines/tokenize.yaml`` with ``params`` over its section). Returns the stage config."""
    from proofpile.config import StageConfig
    from proofpile.stage import run_stage

    root = Path(root)
    write_corpus(root, per_split)
    (root / "markers").mkdir(parents=True, exist_ok=True)
    (root / "markers" / "decontam.json").write_text("{}\n")  # the corpus stands in for the decontam stage's output
    config = config or Path(__file__).resolve().parents[2] / "pipelines" / "tokenize.yaml"
    cfg = StageConfig.load("tokenize", config, data_root=root,
                           overrides={"tokenize": params or {}, "executor": {"tasks": tasks, "workers": workers}})
    run_stage(cfg)
    return cfg
