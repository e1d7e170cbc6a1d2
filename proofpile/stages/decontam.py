"""Decontamination against benchmark test sets (MATH, GSM8K), then train/validation/test splits.

Reads dedup/<subset>/ and writes decontam/<subset>/<split>/ (meta.split set), plus decontam/report.json,
decontam/report.md (a table per benchmark and subset) and decontam/flagged.jsonl (every flagged document: item,
benchmark, matched span, action).

1. the benchmarks' items (config ``benchmarks``: a list of {name, path, fields}, or a YAML file holding one; the
   first field is the problem) are indexed: problem n-grams, problem+answer n-grams, whole short problems
   (``proofpile.decontam.ngrams``);
2. read -> n-gram tier (drop or report per subset) -> optional paraphrase tier (``paraphrase``: embeddings of
   candidate chunks, optional LLM judge; ``proofpile.decontam.paraphrase``) -> split by hash(seed, id) -> write.
"""

from __future__ import annotations

import json
from pathlib import Path

from proofpile.config import ConfigError, StageConfig
from proofpile.contract import SHARD_SUFFIX, ContractReader, ContractWriter
from proofpile.decontam.benchmarks import parse_benchmarks
from proofpile.decontam.ngrams import NGramDecontamination, build_index
from proofpile.decontam.report import build_report, markdown
from proofpile.decontam.splits import SplitAssigner
from proofpile.stage import PACKAGE_DIR, atomic_write, run_pipeline
from proofpile.stats import step_totals

UPSTREAM = ("dedup",)
OUTPUTS = ("decontam",)
DEFAULTS = {
    "benchmarks": "filters/decontam/benchmarks.yaml",
    "n": 13,
    "report_n": 30,
    "min_share": 0.7,
    "min_match_words": 40,
    "max_items_per_ngram": 2,
    "reference": [],
    "reference_min_docs": 2,
    "action": "drop",
    "subset_actions": {},
    "paraphrase": None,
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
    p["reference"] = [cfg.path(r) for r in p["reference"] or []]
    for action in [p["action"], *(p["subset_actions"] or {}).values()]:
        if action not in ("drop", "report"):
            raise ConfigError(f"decontam: an action is drop or report, got {action!r}")
    if p["paraphrase"] is not None:
        from proofpile.decontam.paraphrase import ParaphraseConfig

        p["paraphrase"] = ParaphraseConfig.parse(p["paraphrase"])
    return p


def inputs(cfg: StageConfig) -> list[str]:
    value = cfg.get("benchmarks", DEFAULTS["benchmarks"])
    files = [cfg.path(value)] if isinstance(value, str) else []
    try:
        files += [b.path for b in parse_benchmarks(value, cfg.path) if not b.path.startswith("hf://")]
    except ConfigError:
        pass  # reported by run()
    return files + [str(PACKAGE_DIR.parent / "filters" / "decontam" / "tex-variants.yaml")] + [
        cfg.path(r) for r in cfg.get("reference") or []]


def run(cfg: StageConfig) -> None:
    p = params(cfg)
    logs = Path(cfg.logs_dir())
    index, hits = str(logs / "index"), logs / "hits"
    summary = build_index(p["benchmarks"], index, n=p["n"], report_n=p["report_n"],
                          max_items_per_ngram=p["max_items_per_ngram"], reference=p["reference"],
                          reference_min_docs=p["reference_min_docs"])
    splits = p["splits"]
    src = cfg.out("dedup")
    # a reader without files would fail its task: no shards upstream is an empty input
    has_shards = any(Path(src).glob(f"*/*{SHARD_SUFFIX}"))
    reader = [ContractReader(src, glob_pattern=f"*/*{SHARD_SUFFIX}")] if has_shards else []
    tiers = [NGramDecontamination(index, str(hits / "ngram"), min_share=p["min_share"],
                                  min_match_words=p["min_match_words"], action=p["action"],
                                  actions=p["subset_actions"])]
    if p["paraphrase"] is not None:
        from proofpile.decontam.paraphrase import ParaphraseDecontamination

        tiers.append(ParaphraseDecontamination(index, str(hits / "paraphrase"), p["paraphrase"],
                                               action=p["action"], actions=p["subset_actions"]))
    run_pipeline(cfg, reader + tiers + [
        SplitAssigner(seed=splits["seed"], validation=splits["validation"], test=splits["test"],
                      per_subset=splits.get("per_subset")),
        ContractWriter(cfg.stage_dir(), output_filename="${subset}/${split}/${rank}" + SHARD_SUFFIX),
    ], name="filter")
    steps = step_totals(logs / "filter")
    report_params = {k: p[k] for k in ("n", "report_n", "min_share", "min_match_words", "max_items_per_ngram",
                                       "action", "subset_actions")}
    out = Path(cfg.stage_dir())
    out.mkdir(parents=True, exist_ok=True)
    hit_files = sorted(hits.glob("ngram/*.jsonl")) + sorted(hits.glob("paraphrase/*.jsonl"))
    tmp = out / ".flagged.jsonl.tmp"
    with open(tmp, "wb") as flagged:
        report = build_report(hit_files, flagged, steps.get(NGramDecontamination.name, {}), summary, report_params,
                              steps.get("🦠 paraphrase decontamination"))
    tmp.replace(out / "flagged.jsonl")
    atomic_write(out / "report.json", json.dumps(report, indent=1, ensure_ascii=False).encode())
    atomic_write(out / "report.md", markdown(report).encode())
