"""Token counts, the funnel of every stage and charts -> reports/ (Markdown, HTML, PNG)."""

from proofpile.config import StageConfig

UPSTREAM = ("manifest",)
OUTPUTS = ("reports",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage report is not built yet")
