"""Cleaning steps for arXiv LaTeX: expand the paper's own macros, then keep its body."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict

import yaml
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter

from proofpile.arxiv.latex import (
    ExpandLimits,
    TrimRules,
    collect_macros,
    expand_macros,
    normalize_whitespace,
    notation_macros,
    trim_paper,
)
from proofpile.budget import Budget, BudgetedFilter, BudgetedStep


class LatexMacroExpander(BudgetedStep, PipelineStep):
    """Collects the paper's ``\\newcommand``/``\\renewcommand``/``\\providecommand``/``\\def``/``\\let``/
    ``\\DeclareMathOperator`` definitions (with or without ``#1``.. arguments), removes them and expands the uses of
    its notation, so the text reads ``\\mathbb{Z}`` where the author typed ``\\ZZ``. Redefined ``protected``
    commands (sectioning, environments: see ``filters/arxiv/cleaning.yaml``) and macros built from LaTeX internals
    are not expanded. A paper whose expansion takes more than ``budget`` is dropped (``proofpile.budget``)."""

    type = "✂️ - FORMAT"
    name = "🔣 LaTeX macros"

    def __init__(self, limits: ExpandLimits = ExpandLimits(), protected_commands=(), budget: Budget = Budget()):
        super().__init__()
        self.budget = budget
        self.limits = limits
        self.protected = frozenset(protected_commands)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            self.stat_update("total")
            with self.track_time():
                text, _ = self.within_budget(self.expand, doc.text)
            if text is not None:
                doc.text = text
                yield doc

    def expand(self, text: str) -> str:
        macros, text = collect_macros(text)
        if not macros:
            return text
        stats: Counter = Counter()
        text = expand_macros(text, notation_macros(macros, self.protected, stats), self.limits, stats)
        self.stat_update("macro_definitions", value=len(macros))
        for key, n in stats.items():
            self.stat_update(key, value=n)
        return text


class ArxivBodyFilter(BudgetedFilter, BaseFilter):
    """Keeps a paper's body, RedPajama-style and configurable: from the first sectioning command (the abstract
    kept, a paper without sections kept from ``\\begin{document}`` unless ``require_section``) up to the appendix,
    the bibliography or ``\\end{document}``. A paper with no body, or one shorter than ``min_chars``, is dropped."""

    name = "📄 arXiv body"

    def __init__(self, rules: TrimRules = TrimRules(), min_chars: int = 200, budget: Budget = Budget()):
        super().__init__()
        self.budget = budget
        self.rules = rules
        self.min_chars = min_chars

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        stats: Counter = Counter()
        body = trim_paper(doc.text, self.rules, stats)
        for key, n in stats.items():
            self.stat_update(key, value=n)
        if body is None:
            return False, "no_body"
        doc.text = normalize_whitespace(body)
        if len(doc.text) < self.min_chars:
            return False, "too_short"
        return True


def load_cleaning(path: str | None, **options) -> tuple[TrimRules, list[str]]:
    """``TrimRules`` and the protected commands from the cleaning YAML (``section_commands``, ``appendix_markers``,
    ``bibliography_markers``, ``protected_commands``), with the pipeline's switches (``drop_appendix``, ...) on
    top."""
    values = asdict(TrimRules())
    protected: list[str] = []
    if path:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
        protected = list(data.pop("protected_commands", None) or [])
        unknown = set(data) - set(values)
        if unknown:
            raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
        values.update(data)
    unknown = set(options) - set(values)
    if unknown:
        raise ValueError(f"unknown arxiv cleaning options {sorted(unknown)}")
    values.update({k: v for k, v in options.items() if v is not None})
    rules = TrimRules(**values)
    # the commands that delimit the body must survive expansion whatever the file says
    return rules, sorted(set(protected) | set(rules.section_commands) | {"begin", "end", "appendix"})
