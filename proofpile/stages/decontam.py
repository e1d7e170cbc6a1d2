"""n-gram decontamination against MATH/GSM8K, then train/validation/test splits."""

from proofpile.config import StageConfig

UPSTREAM = ("dedup",)
OUTPUTS = ("decontam",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage decontam is not built yet")
