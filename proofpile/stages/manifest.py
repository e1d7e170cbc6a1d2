"""Tokenized shards + a mixture definition -> a resolved manifest trainers consume."""

from proofpile.config import StageConfig

UPSTREAM = ("tokenize",)
OUTPUTS = ("manifests",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage manifest is not built yet")
