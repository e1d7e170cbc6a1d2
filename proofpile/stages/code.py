"""Source files in 17 languages -> math code documents (algebraic-stack)."""

from proofpile.config import StageConfig

UPSTREAM = ()
OUTPUTS = ("code",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage code is not built yet")
