"""Decontamination against benchmark test sets (MATH, GSM8K), then train/validation/test splits.

Reads dedup/<subset>/ and writes decontam/<subset>/<split>/ (meta.split set), plus decontam/report.json,
decontam/report.md (a table per benchmark and subset) and decontam/flagged.jsonl (every flagged document: item,
benchmark, matched span, action).

1. the benchmarks' items (config ``benchmarks``: a list of {name, path, fields}, or a YAML file holding one; the
   first field is the problem) are indexed: problem n-grams, problem+answer n-grams, whole short problems
   (``proofpile.decontam.ngrams``), once per cache for the same benchmark files and settings;
2. read -> n-gram tier (drop or report per subset) -> optional paraphrase tier (``paraphrase``: embeddings of
   candidate chunks, optional LLM judge; ``proofpile.decontam.paraphrase``) -> split by hash(seed, id) -> write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import PositiveInt, model_validator

from proofpile.atomic import atomic_write
from proofpile.config import ConfigError, ConfigPath, Fraction, Section, StageConfig, section
from proofpile.contract import SHARD_SUFFIX, ContractReader, ContractWriter
from proofpile.decontam.benchmarks import parse_benchmarks
from proofpile.decontam.ngrams import NGramDecontamination, ensure_index
from proofpile.decontam.paraphrase import ParaphraseConfig
from proofpile.decontam.report import build_report, markdown
from proofpile.decontam.splits import SplitAssigner
from proofpile.decontam.words import TEX_VARIANTS
from proofpile.stage import run_pipeline
from proofpile.stats import step_totals

UPSTREAM = ("dedup",)
OUTPUTS = ("decontam",)
LIBRARIES = ("xxhash",)

Action = Literal["drop", "report"]


class SubsetFractions(Section):
    validation: Fraction | None = None  # null: the default fraction
    test: Fraction | None = None


class Splits(Section):
    """split = f(hash(seed, id)): stable when documents are added."""

    seed: int = 0
    validation: Fraction = 0.005
    test: Fraction = 0.005
    per_subset: dict[str, SubsetFractions] = {}  # {arxiv: {validation: 0.01, test: 0.01}}

    @model_validator(mode="after")
    def _fractions_fit(self):
        for subset, f in {"*": self, **self.per_subset}.items():
            v = self.validation if f.validation is None else f.validation
            t = self.test if f.test is None else f.test
            if v + t > 1:
                raise ValueError(f"split fractions of {subset}: validation {v} + test {t} is more than 1")
        return self


class Config(Section):
    # a YAML file holding a list of {name, path, fields} (fields: the problem first), or that list inline
    benchmarks: ConfigPath | list[dict] = "filters/decontam/benchmarks.yaml"
    n: PositiveInt = 13  # n-grams of normalised words (punctuation is not a word)
    report_n: PositiveInt | None = 30  # also report overlaps at this n (Llemma's 30-gram check), never acted on
    min_share: Fraction = 0.7  # flag a document holding this share of an item's n-grams (and of its numbers)...
    min_match_words: PositiveInt = 40  # ... or a run of this many matching words
    max_items_per_ngram: PositiveInt = 2  # an n-gram in more items is template text, ignored
    reference: list[ConfigPath] = []  # a clean reference corpus (text or JSON-lines files): its common n-grams
    reference_min_docs: PositiveInt = 2  # ... those in this many of its documents, are ignored
    action: Action = "drop"  # what a flagged document meets: drop, or report (kept, counted, listed)
    subset_actions: dict[str, Action] = {}  # per subset, e.g. {arxiv: report}
    paraphrase: ParaphraseConfig | None = None  # the paraphrase tier (needs the `paraphrase` extra); null: off
    splits: Splits = section()


def benchmarks(cfg: StageConfig):
    return parse_benchmarks(cfg.params.benchmarks, cfg.path)


def more_inputs(cfg: StageConfig) -> list[str]:
    try:
        files = [b.path for b in benchmarks(cfg) if not b.path.startswith("hf://")]
    except ConfigError:
        files = []  # reported by run()
    return files + [str(TEX_VARIANTS)]


def run(cfg: StageConfig) -> None:
    p = cfg.params
    logs = Path(cfg.logs_dir())
    hits = logs / "hits"
    index, summary = ensure_index(benchmarks(cfg), logs / "index", n=p.n, report_n=p.report_n,
                                  max_items_per_ngram=p.max_items_per_ngram, reference=[str(r) for r in p.reference],
                                  reference_min_docs=p.reference_min_docs)
    splits = p.splits
    src = cfg.out("dedup")
    # a reader without files would fail its task: no shards upstream is an empty input
    has_shards = any(Path(src).glob(f"*/*{SHARD_SUFFIX}"))
    reader = [ContractReader(src, glob_pattern=f"*/*{SHARD_SUFFIX}")] if has_shards else []
    tiers = [NGramDecontamination(index, str(hits / "ngram"), min_share=p.min_share,
                                  min_match_words=p.min_match_words, action=p.action, actions=p.subset_actions)]
    if p.paraphrase is not None:
        from proofpile.decontam.paraphrase import ParaphraseDecontamination

        tiers.append(ParaphraseDecontamination(index, str(hits / "paraphrase"), p.paraphrase, action=p.action,
                                               actions=p.subset_actions))
    run_pipeline(cfg, reader + tiers + [
        SplitAssigner(seed=splits.seed, validation=splits.validation, test=splits.test,
                      per_subset={k: v.model_dump(exclude_none=True) for k, v in splits.per_subset.items()}),
        ContractWriter(cfg.stage_dir(), output_filename="${subset}/${split}/${rank}" + SHARD_SUFFIX),
    ], name="filter")
    steps = step_totals(logs / "filter")
    params = {"n": p.n, "report_n": p.report_n, "min_share": p.min_share, "min_match_words": p.min_match_words,
              "max_items_per_ngram": p.max_items_per_ngram, "action": p.action,
              "subset_actions": dict(p.subset_actions)}
    out = Path(cfg.stage_dir())
    out.mkdir(parents=True, exist_ok=True)
    hit_files = sorted(hits.glob("ngram/*.jsonl")) + sorted(hits.glob("paraphrase/*.jsonl"))
    tmp = out / ".flagged.jsonl.tmp"
    with open(tmp, "wb") as flagged:
        report = build_report(hit_files, flagged, steps.get(NGramDecontamination.name, {}), summary, params,
                              steps.get("🦠 paraphrase decontamination"))
    tmp.replace(out / "flagged.jsonl")
    atomic_write(out / "report.json", json.dumps(report, indent=1, ensure_ascii=False).encode())
    atomic_write(out / "report.md", markdown(report).encode())
