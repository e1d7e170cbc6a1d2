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

from proofpile.config import ConfigError, StageConfig
from proofpile.contract import SHARD_SUFFIX, ContractReader, ContractWriter
from proofpile.decontam.benchmarks import parse_benchmarks
from proofpile.decontam.ngrams import NGramDecontamination, build_index, read_hits
from proofpile.decontam.report import build_report, markdown
from proofpile.decontam.splits import SplitAssigner
from proofpile.stage import PACKAGE_DIR, atomic_write, run_pipeline, step_totals

UPSTREAM = ("dedup",)
OUTPUTS = ("decontam",)
DEFAULTS = {
    "benchmarks": "filters/decontam/benchmarks.yaml",
    "n": 13,
    "report_n": 30,
    "splits": {"seed": 0, "validation": 0.005, "test": 0.005},
}


def params(cfg: StageConfig) -> dict:
    p = {**DEFAULTS, **{k: v for k, v in cfg.params.items() if k != "executor"}}
    unknown = set(p) - set(DEFAULTS)
    if unknown:
        raise ConfigError(f"decontam: unknown keys {sorted(unknown)} (known: {sorted(DEFAULTS)})")
    for key in ("n", "report_n"):
        if p[key] is not None and (not isinstance(p[key], int) or p[key] < 1):
            raise ConfigError(f"decontam: {key} must be a positive integer, got {p[key]!r}")
    splits = {**DEFAULTS["splits"], **(p["splits"] or {})}
    if set(splits) - {"seed", "validation", "test", "per_subset"}:
        raise ConfigError(f"decontam: splits takes seed, validation, test, per_subset; got {sorted(splits)}")
    p["splits"] = splits
    p["benchmarks"] = parse_benchmarks(p["benchmarks"], cfg.path)
    return p


def inputs(cfg: StageConfig) -> list[str]:
    value = cfg.get("benchmarks", DEFAULTS["benchmarks"])
    files = [cfg.path(value)] if isinstance(value, str) else []
    try:
        files += [b.path for b in parse_benchmarks(value, cfg.path) if not b.path.startswith("hf://")]
    except ConfigError:
        pass  # reported by run()
    # the word normalisation is shared with dedup
    return files + [str(PACKAGE_DIR / "dedup" / "text.py")]


def run(cfg: StageConfig) -> None:
    p = params(cfg)
    logs = Path(cfg.logs_dir())
    index, hits = str(logs / "index"), str(logs / "hits")
    sizes = sorted({p["n"], p["report_n"]} - {None})
    summary = build_index(p["benchmarks"], sizes, index)
    splits = p["splits"]
    src = cfg.out("dedup")
    # a reader without files would fail its task: no shards upstream is an empty input
    has_shards = any(Path(src).glob(f"*/*{SHARD_SUFFIX}"))
    reader = [ContractReader(src, glob_pattern=f"*/*{SHARD_SUFFIX}")] if has_shards else []
    run_pipeline(cfg, reader + [
        NGramDecontamination(index, hits, n=p["n"], report_n=p["report_n"]),
        SplitAssigner(seed=splits["seed"], validation=splits["validation"], test=splits["test"],
                      per_subset=splits.get("per_subset")),
        ContractWriter(cfg.stage_dir(), output_filename="${subset}/${split}/${rank}" + SHARD_SUFFIX),
    ], name="filter")
    stats = step_totals(logs / "filter" / "stats.json").get(NGramDecontamination.name, {})
    report = build_report(read_hits(hits), p["n"], p["report_n"], summary, stats)
    out = Path(cfg.stage_dir())
    atomic_write(out / "report.json", json.dumps(report, indent=1, ensure_ascii=False).encode())
    atomic_write(out / "report.md", markdown(report).encode())
