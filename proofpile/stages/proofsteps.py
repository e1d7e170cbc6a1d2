"""Lean and Isabelle proof states and tactics -> proof-step documents (algebraic-stack)."""

from proofpile.config import StageConfig

UPSTREAM = ()
OUTPUTS = ("proofsteps",)


def inputs(cfg: StageConfig) -> list[str]:
    return []


def run(cfg: StageConfig) -> None:
    raise NotImplementedError("stage proofsteps is not built yet")
