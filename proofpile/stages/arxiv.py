"""arXiv LaTeX source -> cleaned paper text (arxiv)."""

from proofpile.config import StageConfig

UPSTREAM = ()
OUTPUTS = ("arxiv",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage arxiv is not built yet")
