"""Exact and MinHash near-duplicate removal within (and optionally across) subsets."""

from proofpile.config import StageConfig

UPSTREAM = ("web", "code", "arxiv", "proofsteps")
OUTPUTS = ("dedup",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage dedup is not built yet")
