"""Common Crawl WARCs -> math web documents (open-web-math)."""

from proofpile.config import StageConfig

UPSTREAM = ()
OUTPUTS = ("web",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage web is not built yet")
