"""Benchmark hygiene: theorems of held-out theorem-proving benchmarks (miniF2F, ProofNet, LeanDojo val/test, PISA
test) must not be trained on, so a theorem whose name or statement is on a benchmark's list is dropped, counted as
``dropped_benchmark_<list>``.

Lists live in ``filters/proofsteps/``: ``<benchmark>.names.txt`` (one theorem name a line) and
``<benchmark>.statements.txt`` (one statement a line; compared with whitespace collapsed). ``#`` starts a comment
line. A listed name without a dot matches a theorem's last name component too (``MiniF2F.amc12_2000_p1`` matches
``amc12_2000_p1``); a dotted name (``Nat.succ_le_iff``) must match in full.
"""

from __future__ import annotations

import re
from pathlib import Path

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter

from proofpile.config import read_list

_SPACE = re.compile(r"\s+")




def normalize_statement(statement: str) -> str:
    return _SPACE.sub(" ", statement).strip()


def benchmark_lists(folder: str | Path) -> tuple[dict[str, str], dict[str, str]]:
    """(name -> benchmark, normalized statement -> benchmark) from every list in ``folder``."""
    names: dict[str, str] = {}
    statements: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.txt")):
        if path.name.endswith(".names.txt"):
            bench = path.name.removesuffix(".names.txt")
            for name in read_list(path):
                names.setdefault(name, bench)
        elif path.name.endswith(".statements.txt"):
            bench = path.name.removesuffix(".statements.txt")
            for statement in read_list(path):
                statements.setdefault(normalize_statement(statement), bench)
    return names, statements


class BenchmarkHygieneFilter(BaseFilter):
    """Drops a proof-step document whose ``meta.theorem`` or ``meta.statement`` is on a held-out benchmark list."""

    name = "🧹 Benchmark hygiene"

    def __init__(self, lists_folder: str):
        super().__init__()
        self.lists_folder = str(lists_folder)
        self._lists: tuple[dict[str, str], dict[str, str]] | None = None

    def benchmark_of(self, theorem: str | None, statement: str | None) -> str | None:
        if self._lists is None:
            self._lists = benchmark_lists(self.lists_folder)
        names, statements = self._lists
        if theorem:
            bench = names.get(theorem)
            if bench is None and "." in theorem:
                last = theorem.rsplit(".", 1)[1]
                if last in names and "." not in last:
                    bench = names[last]
            if bench:
                return bench
        if statement and statements:
            return statements.get(normalize_statement(statement))
        return None

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        bench = self.benchmark_of(doc.metadata.get("theorem"), doc.metadata.get("statement"))
        return (False, f"benchmark_{bench}") if bench else True
