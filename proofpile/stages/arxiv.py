"""arXiv LaTeX source -> cleaned paper text (arxiv).

Reads arXiv source as distributed (bulk tars of per-paper .gz files, or the .gz files themselves) safely in memory,
finds each paper's main file, inlines its \\input/\\include files, removes comments, expands the paper's macros and
keeps its body from the first section to the appendix/bibliography. RedPajama's arXiv jsonl is accepted too.
Writes <data_root>/arxiv/*.jsonl.zst with meta.subset = "arxiv" and the arXiv id as document id.
"""

from __future__ import annotations

import os

from proofpile.arxiv.archive import Limits
from proofpile.arxiv.clean import ArxivBodyFilter, LatexMacroExpander, load_cleaning
from proofpile.arxiv.latex import InlineLimits
from proofpile.arxiv.readers import ArxivSourceReader, RedPajamaArxivReader
from proofpile.budget import Budget
from proofpile.config import ConfigError, StageConfig
from proofpile.contract import ContractWriter
from proofpile.stage import run_pipeline

UPSTREAM = ()
# per paper and step: far above any real paper (the slowest real sources take well under a second), so reruns stay
# exact; a hostile source past it is a counted drop instead of a stalled rank
DEFAULT_BUDGET = {"seconds": 120, "memory_mb": 4096}
OUTPUTS = ("arxiv",)


def inputs(cfg: StageConfig) -> list[str]:
    files = cfg.paths("sources") + cfg.paths("redpajama")
    for key in ("cleaning", "license_file"):
        if cfg.get(key):
            files.append(cfg.param_path(key))
    return files


def folder_and_glob(path: str) -> tuple[str, str | None]:
    """A reader's data folder and glob for a configured input: a folder is read whole, a file alone."""
    if "://" not in path and not os.path.exists(path):
        raise ConfigError(f"arxiv: input not found: {path}")
    if os.path.isfile(path):
        return os.path.dirname(path) or ".", os.path.basename(path)
    return path, None


KNOWN_KEYS = {"sources", "redpajama", "license_file", "cleaning", "drop_appendix", "drop_bibliography",
              "keep_abstract", "require_section", "min_chars", "limits", "inline", "budget", "executor"}


def run(cfg: StageConfig) -> None:
    unknown = set(cfg.params) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"arxiv: unknown keys {sorted(unknown)} (known: {sorted(KNOWN_KEYS)})")
    try:
        limits = Limits.from_config(cfg.get("limits"))
        budget = Budget.from_config(cfg.get("budget", DEFAULT_BUDGET))
        inline = InlineLimits(**(cfg.get("inline") or {}))
        rules, protected = load_cleaning(cfg.param_path("cleaning"), **{
            k: cfg.get(k) for k in ("drop_appendix", "drop_bibliography", "keep_abstract", "require_section")})
    except (TypeError, ValueError) as e:
        raise ConfigError(f"arxiv: {e}") from None
    readers = []
    license_file = cfg.param_path("license_file")
    for path in cfg.paths("sources"):
        folder, glob = folder_and_glob(path)
        readers.append(ArxivSourceReader(folder, glob_pattern=glob, limits=limits, inline_limits=inline,
                                         license_file=license_file, budget=budget))
    for path in cfg.paths("redpajama"):
        folder, glob = folder_and_glob(path)
        readers.append(RedPajamaArxivReader(folder, glob_pattern=glob))
    if not readers:
        raise ConfigError("arxiv: configure `sources` (arXiv tars/.gz) or `redpajama` (jsonl) inputs")
    run_pipeline(cfg, readers + [
        LatexMacroExpander(protected_commands=protected, budget=budget),
        ArxivBodyFilter(rules, min_chars=int(cfg.get("min_chars", 200)), budget=budget),
        ContractWriter(cfg.stage_dir()),
    ])
