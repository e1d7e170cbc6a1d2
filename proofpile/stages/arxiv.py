"""arXiv LaTeX source -> cleaned paper text (arxiv).

Reads arXiv source as distributed (bulk tars of per-paper .gz files, or the .gz files themselves) safely in memory,
finds each paper's main file, inlines its \\input/\\include files, removes comments, expands the paper's macros and
keeps its body from the first section to the appendix/bibliography. RedPajama's arXiv jsonl is accepted too.
Writes <data_root>/arxiv/*.jsonl.zst with meta.subset = "arxiv" and the arXiv id as document id.
"""

from __future__ import annotations

from pydantic import Field, NonNegativeInt

from proofpile.arxiv.archive import Limits
from proofpile.arxiv.clean import ArxivBodyFilter, LatexMacroExpander, load_cleaning
from proofpile.arxiv.latex import InlineLimits
from proofpile.arxiv.readers import ArxivSourceReader, RedPajamaArxivReader
from proofpile.budget import Budget
from proofpile.config import ConfigError, ConfigPath, Section, StageConfig, folder_and_glob
from proofpile.contract import ContractWriter
from proofpile.stage import run_pipeline

UPSTREAM = ()
OUTPUTS = ("arxiv",)


class Config(Section):
    sources: list[ConfigPath] = []  # bulk tars of per-paper .gz files, per-paper .gz files, or folders of them
    redpajama: list[ConfigPath] = []  # RedPajama-style arXiv jsonl, plain/.gz/.zst, files or folders
    license_file: ConfigPath | None = None  # jsonl of {"id", "license"} (arXiv's OAI metadata) -> meta.license
    cleaning: ConfigPath | None = "filters/arxiv/cleaning.yaml"
    # the cleaning switches; null: as the cleaning file (or TrimRules) says
    drop_appendix: bool | None = None
    drop_bibliography: bool | None = None
    keep_abstract: bool | None = None
    require_section: bool | None = None  # true: drop papers without a sectioning command, like RedPajama
    min_chars: NonNegativeInt = 200
    limits: Limits = Field(default_factory=Limits)  # caps per paper and per bulk tar (untrusted archives)
    inline: InlineLimits = Field(default_factory=InlineLimits)
    # what one paper may cost in each step (seconds, MiB of memory growth): past it, a counted drop
    # (dropped_over_time_budget / _memory_budget) and the rank goes on; far above any real paper (reruns stay exact)
    budget: Budget = Field(default_factory=lambda: Budget(seconds=120, memory_mb=4096))


def steps(cfg: StageConfig) -> list:
    """The stage's pipeline: readers, macro expander, body filter, contract writer."""
    p = cfg.params
    try:
        rules, protected = load_cleaning(p.cleaning, drop_appendix=p.drop_appendix,
                                         drop_bibliography=p.drop_bibliography, keep_abstract=p.keep_abstract,
                                         require_section=p.require_section)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"arxiv: {e}") from None
    readers = []
    for path in p.sources:
        folder, glob = folder_and_glob(path)
        readers.append(ArxivSourceReader(folder, glob_pattern=glob, limits=p.limits, inline_limits=p.inline,
                                         license_file=p.license_file, budget=p.budget))
    for path in p.redpajama:
        folder, glob = folder_and_glob(path)
        readers.append(RedPajamaArxivReader(folder, glob_pattern=glob))
    if not readers:
        raise ConfigError("arxiv: configure `sources` (arXiv tars/.gz) or `redpajama` (jsonl) inputs")
    return readers + [
        LatexMacroExpander(protected_commands=protected, budget=p.budget),
        ArxivBodyFilter(rules, min_chars=p.min_chars, budget=p.budget),
        ContractWriter(cfg.stage_dir()),
    ]


def run(cfg: StageConfig) -> None:
    run_pipeline(cfg, steps(cfg))
