"""n-gram decontamination against MATH/GSM8K, then train/validation/test splits.

Reads dedup/<subset>/ and writes decontam/<subset>/<split>/ (meta.split set), plus decontam/report.json and
decontam/report.md: which benchmark items share an n-gram with which documents.

1. the benchmarks' items (config ``benchmarks``: a list of {name, path, fields}, or a YAML file holding one) are
   indexed as hashed word n-grams, at ``n`` (removal, 13) and ``report_n`` (report, 30 as in the Llemma paper);
2. read -> drop documents sharing an n-gram with an item (reason contaminated_<benchmark>) -> split by
   hash(seed, id) -> write.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import PositiveInt, model_validator

from proofpile.atomic import atomic_write
from proofpile.config import ConfigError, ConfigPath, Fraction, Section, StageConfig, section
from proofpile.contract import SHARD_SUFFIX, ContractReader, ContractWriter
from proofpile.decontam.benchmarks import parse_benchmarks
from proofpile.decontam.ngrams import NGramDecontamination, build_index, read_hits
from proofpile.decontam.report import build_report, markdown
from proofpile.decontam.splits import SplitAssigner
from proofpile.stage import PACKAGE_DIR, run_pipeline, step_totals

UPSTREAM = ("dedup",)
OUTPUTS = ("decontam",)
LIBRARIES = ("xxhash",)


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
    # a YAML file holding a list of {name, path, fields}, or that list inline
    benchmarks: ConfigPath | list[dict] = "filters/decontam/benchmarks.yaml"
    n: PositiveInt = 13  # drop a document sharing one n-gram of normalised words with a benchmark item
    report_n: PositiveInt | None = 30  # also report overlaps at this n (Llemma's 30-gram check)
    splits: Splits = section()


def benchmarks(cfg: StageConfig):
    return parse_benchmarks(cfg.params.benchmarks, cfg.path)


def more_inputs(cfg: StageConfig) -> list[str]:
    try:
        files = [b.path for b in benchmarks(cfg) if not b.path.startswith("hf://")]
    except ConfigError:
        files = []  # reported by run()
    # the word normalisation is shared with dedup
    return files + [str(PACKAGE_DIR / "dedup" / "text.py")]


def run(cfg: StageConfig) -> None:
    p = cfg.params
    logs = Path(cfg.logs_dir())
    index, hits = str(logs / "index"), str(logs / "hits")
    sizes = sorted({p.n, p.report_n} - {None})
    summary = build_index(benchmarks(cfg), sizes, index)
    splits = p.splits
    src = cfg.out("dedup")
    # a reader without files would fail its task: no shards upstream is an empty input
    has_shards = any(Path(src).glob(f"*/*{SHARD_SUFFIX}"))
    reader = [ContractReader(src, glob_pattern=f"*/*{SHARD_SUFFIX}")] if has_shards else []
    run_pipeline(cfg, reader + [
        NGramDecontamination(index, hits, n=p.n, report_n=p.report_n),
        SplitAssigner(seed=splits.seed, validation=splits.validation, test=splits.test,
                      per_subset={k: v.model_dump(exclude_none=True) for k, v in splits.per_subset.items()}),
        ContractWriter(cfg.stage_dir(), output_filename="${subset}/${split}/${rank}" + SHARD_SUFFIX),
    ], name="filter")
    stats = step_totals(logs / "filter" / "stats.json").get(NGramDecontamination.name, {})
    report = build_report(read_hits(hits), p.n, p.report_n, summary, stats)
    out = Path(cfg.stage_dir())
    atomic_write(out / "report.json", json.dumps(report, indent=1, ensure_ascii=False).encode())
    atomic_write(out / "report.md", markdown(report).encode())
