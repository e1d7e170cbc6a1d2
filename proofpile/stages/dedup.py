"""Exact and MinHash near-duplicate removal within (and optionally across) subsets.

Reads the documents of web/, code/, arxiv/ and proofsteps/ and writes dedup/<subset>/ (subset from meta.subset).
Four datatrove pipelines, each with its own logging dir under logs/dedup/ (``proofpile.dedup.steps``):

1. signatures  read -> check subset -> exact hash, MinHash band keys, shingles and id of each document
2. pairs       LSH candidates (equal in a band) verified by exact Jaccard; ``pair_tasks`` tasks share the bands
3. clusters    exact-equal documents and the pairs -> clusters; the smallest id of each stays
4. filter      read -> check subset -> drop the others -> write dedup/<subset>/

then dedup/summary.json: documents in, dropped per reason, out per subset, LSH pairs verified and rejected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from datatrove.pipeline.dedup import MinhashConfig
from datatrove.utils.hashing import HashConfig
from pydantic import Field, PositiveInt

from proofpile.atomic import atomic_write
from proofpile.config import Section, StageConfig
from proofpile.contract import SHARD_SUFFIX, ContractReader, ContractWriter
from proofpile.dedup.steps import (
    DuplicateFilter,
    DuplicateSignatures,
    FindDuplicates,
    FindNearPairs,
    MathMinhashSignature,
    SubsetCheck,
    document_text,
    subset_and_text,
)
from proofpile.stage import run_pipeline
from proofpile.stats import step_totals

UPSTREAM = ("web", "code", "arxiv", "proofsteps")
OUTPUTS = ("dedup",)
LIBRARIES = ("xxhash",)


class Config(Section):
    exact: bool = True  # drop documents whose text is identical to another's (content hash)
    near: bool = True  # MinHash near-duplicate removal
    across_subsets: bool = False  # false: a document is only compared with documents of its own meta.subset
    n_grams: PositiveInt = 5
    num_buckets: PositiveInt = 20
    hashes_per_bucket: PositiveInt = 6
    seed: int = 1
    # pairs below this exact Jaccard similarity are not duplicates; null: trust LSH alone
    verify_jaccard: float | None = Field(0.8, gt=0, le=1)
    # tasks that find the LSH pairs, each taking a share of the bands (a band of every document in memory, 8 bytes
    # a document): 1 runs in the stage's process; more for an input whose bands do not fit one task's memory
    pair_tasks: PositiveInt = 1


def minhash_config(p: Config) -> MinhashConfig:
    return MinhashConfig(n_grams=p.n_grams, num_buckets=p.num_buckets, hashes_per_bucket=p.hashes_per_bucket,
                         seed=p.seed, hash_config=HashConfig(precision=64, hash_fc="xxhash"))


def readers(cfg: StageConfig) -> list:
    """One contract reader per upstream folder holding shards (datatrove readers chain: each passes on the
    documents of the one before; a reader without files would fail its task)."""
    return [ContractReader(cfg.out(up), glob_pattern=f"**/*{SHARD_SUFFIX}")
            for up in UPSTREAM if any(Path(cfg.out(up)).glob(f"**/*{SHARD_SUFFIX}"))]


def run(cfg: StageConfig) -> None:
    p = cfg.params
    work = os.path.join(cfg.logs_dir(), "work")
    signer = MathMinhashSignature(f"{work}/unused", minhash_config(p)) if p.near else None
    # a rank reads whole files: no more workers than files to start (a tiny input is read in this process)
    files = sum(1 for up in UPSTREAM for _ in Path(cfg.out(up)).glob(f"**/*{SHARD_SUFFIX}"))
    workers = max(1, min(cfg.executor.ranks_at_once, files))
    run_pipeline(cfg, readers(cfg) + [SubsetCheck(), DuplicateSignatures(
        f"{work}/signatures", document_text if p.across_subsets else subset_and_text, signer,
        within_subsets=not p.across_subsets)], name="1-signatures", workers=workers)
    if p.near:  # one task (the default) runs in this process: no workers to start
        run_pipeline(cfg, [FindNearPairs(f"{work}/signatures", f"{work}/pairs", p.num_buckets, exact=p.exact,
                                         verify_jaccard=p.verify_jaccard)], name="2-pairs", tasks=p.pair_tasks,
                     workers=min(p.pair_tasks, cfg.executor.ranks_at_once))
    run_pipeline(cfg, [FindDuplicates(f"{work}/signatures", f"{work}/remove", exact=p.exact,
                                      pairs_folder=f"{work}/pairs" if p.near else None)],
                 name="3-clusters", tasks=1, workers=1)
    run_pipeline(cfg, readers(cfg) + [SubsetCheck(), DuplicateFilter(f"{work}/remove"), ContractWriter(
        cfg.stage_dir(), output_filename="${subset}/${rank}" + SHARD_SUFFIX)], name="4-filter", workers=workers)
    atomic_write(Path(cfg.stage_dir()) / "summary.json", json.dumps(summary(cfg), indent=1).encode())


def summary(cfg: StageConfig) -> dict:
    """Documents in, dropped per reason and step, out per subset (from the pipelines' stats)."""
    logs = Path(cfg.logs_dir())
    steps = step_totals(logs / "4-filter" / "stats.json")
    writer = steps.get(ContractWriter.name, {})
    dropped = steps.get(DuplicateFilter.name, {})
    out = {
        "documents_in": steps.get(ContractReader.name, {}).get("documents", 0),
        "dropped_bad_subset": steps.get(SubsetCheck.name, {}).get("dropped_bad_subset", 0),
        "dropped_exact_duplicates": dropped.get("dropped_exact_duplicate", 0),
        "dropped_near_duplicates": dropped.get("dropped_near_duplicate", 0),
        "documents_out": {k.split("/")[0]: v for k, v in sorted(writer.items()) if k.endswith(SHARD_SUFFIX)},
    }
    if cfg.params.near:
        # candidate/verified/rejected are summed over the pair tasks: a pair equal in bands of k tasks counts k
        # times; near_joins counts each verified pair that joined two clusters once
        pairs = step_totals(logs / "2-pairs" / "stats.json").get(FindNearPairs.name, {})
        out["lsh_pairs"] = {k: pairs.get(k, 0) for k in ("candidate_pairs", "verified_pairs", "rejected_pairs")}
        clusters = step_totals(logs / "3-clusters" / "stats.json").get(FindDuplicates.name, {})
        out["lsh_pairs"]["near_joins"] = clusters.get("near_joins", 0)
    return out
