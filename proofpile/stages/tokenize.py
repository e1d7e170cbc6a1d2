"""Documents -> tokenized, sharded Arrow files per subset and split."""

from proofpile.config import StageConfig

UPSTREAM = ("decontam",)
OUTPUTS = ("tokenized",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage tokenize is not built yet")
