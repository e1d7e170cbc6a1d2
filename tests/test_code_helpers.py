"""Shared helpers of the code stage's tests."""

from __future__ import annotations

from pathlib import Path

from proofpile.config import StageConfig

PROJECT = Path(__file__).resolve().parents[1]
SAMPLES = PROJECT / "proofpile" / "samples" / "code"


def code_config(tmp_path, sources, **params) -> StageConfig:
    return StageConfig.load("code", PROJECT / "pipelines" / "code.yaml", data_root=tmp_path / "root",
                            overrides={"code": {"sources": sources, **params}})


def outcomes(cfg, rank: int = 0, world_size: int = 1):
    """Run the reader and every filter in process: ({path: "kept" | drop reason}, {stat: count}, kept docs)."""
    from proofpile.stages.code import filter_steps

    reader, *filters = filter_steps(cfg)
    result, kept = {}, []
    for doc in reader.run(None, rank, world_size):
        reason = "kept"
        for f in filters:
            res = f.filter(doc)
            if res is not True:
                reason = res[1]
                break
        result[doc.metadata["path"]] = reason
        if reason == "kept":
            kept.append(doc)
    stats = {}
    for step in [reader, *filters]:
        for label, value in step.stats.stats.items():
            stats[label] = stats.get(label, 0) + value.total
    return result, stats, kept
