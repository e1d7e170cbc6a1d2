"""Exact and MinHash near-duplicate removal within (and optionally across) subsets.

Reads the documents of web/, code/, arxiv/ and proofsteps/ and writes dedup/<subset>/ (subset from meta.subset).
Seven datatrove pipelines, each with its own logging dir under logs/dedup/:

1. exact-signatures   read -> check subset -> hash each text                      (datatrove ExactDedupSignature)
2. exact-find         find equal hashes; the first document of each group is kept (datatrove ExactFindDedups)
3. minhash-signatures read -> check -> drop exact dups -> MinHash of math-safe 5-gram shingles (+ shingle sets)
4. minhash-buckets    LSH: documents equal in any band are candidate pairs        (datatrove MinhashDedupBuckets)
5. minhash-verify     keep a pair only if the exact Jaccard of its shingle sets >= verify_jaccard
6. minhash-cluster    union pairs into clusters; all but one per cluster removed (datatrove MinhashDedupCluster)
7. filter             read -> check -> drop exact dups -> drop near dups -> write dedup/<subset>/

then dedup/summary.json: documents in, dropped per reason, out per subset, LSH pairs verified and rejected.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from datatrove.pipeline.dedup import (
    ExactDedupConfig,
    ExactDedupFilter,
    ExactDedupSignature,
    ExactFindDedups,
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupFilter,
)
from datatrove.utils.hashing import HashConfig
from pydantic import Field, PositiveInt

from proofpile.atomic import atomic_write
from proofpile.config import Section, StageConfig
from proofpile.contract import SHARD_SUFFIX, ContractReader, ContractWriter
from proofpile.dedup.steps import (
    MathMinhashSignature,
    MinhashVerifyPairs,
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
    exact: bool = True  # drop documents whose text is identical to an earlier one (content hash)
    near: bool = True  # MinHash near-duplicate removal
    across_subsets: bool = False  # false: a document is only compared with documents of its own meta.subset
    n_grams: PositiveInt = 5
    num_buckets: PositiveInt = 20
    hashes_per_bucket: PositiveInt = 6
    seed: int = 1
    # pairs below this exact Jaccard similarity are not duplicates; null: trust LSH alone
    verify_jaccard: float | None = Field(0.8, gt=0, le=1)


def minhash_config(p: Config) -> MinhashConfig:
    return MinhashConfig(n_grams=p.n_grams, num_buckets=p.num_buckets, hashes_per_bucket=p.hashes_per_bucket, seed=p.seed,
                         hash_config=HashConfig(precision=64, hash_fc="xxhash"))


def readers(cfg: StageConfig) -> list:
    """One contract reader per upstream folder holding shards (datatrove readers chain: each passes on the
    documents of the one before; a reader without files would fail its task)."""
    return [ContractReader(cfg.out(up), glob_pattern=f"**/*{SHARD_SUFFIX}")
            for up in UPSTREAM if any(Path(cfg.out(up)).glob(f"**/*{SHARD_SUFFIX}"))]


def run(cfg: StageConfig) -> None:
    p = cfg.params
    work = os.path.join(cfg.logs_dir(), "work")
    exact_cfg = ExactDedupConfig(content_getter=document_text if p.across_subsets else subset_and_text,
                                 hash_config=HashConfig(precision=64, hash_fc="xxhash"))
    mh_cfg = minhash_config(p)
    verify = p.verify_jaccard is not None

    def read_checked() -> list:
        steps = readers(cfg) + [SubsetCheck()]
        if p.exact:
            steps.append(ExactDedupFilter(f"{work}/exact/dups", config=exact_cfg))
        return steps

    if p.exact:
        run_pipeline(cfg, readers(cfg) + [SubsetCheck(), ExactDedupSignature(f"{work}/exact/sigs", exact_cfg)],
                     name="1-exact-signatures")
        run_pipeline(cfg, [ExactFindDedups(f"{work}/exact/sigs", f"{work}/exact/dups", exact_cfg)],
                     name="2-exact-find", tasks=1)
    final = read_checked()
    if p.near:
        nb = p.num_buckets
        run_pipeline(cfg, read_checked() + [
            MathMinhashSignature(f"{work}/minhash/sigs", mh_cfg, within_subsets=not p.across_subsets,
                                 shingles_folder=f"{work}/minhash/shingles" if verify else None)],
            name="3-minhash-signatures")
        run_pipeline(cfg, [MinhashDedupBuckets(f"{work}/minhash/sigs", f"{work}/minhash/buckets", config=mh_cfg)],
                     name="4-minhash-buckets", tasks=nb)
        pairs = f"{work}/minhash/buckets"
        if verify:
            pairs = f"{work}/minhash/verified"
            run_pipeline(cfg, [MinhashVerifyPairs(f"{work}/minhash/buckets", pairs, f"{work}/minhash/shingles",
                                                  threshold=p.verify_jaccard)],
                         name="5-minhash-verify", tasks=nb)
        run_pipeline(cfg, [MinhashDedupCluster(pairs, f"{work}/minhash/remove", config=mh_cfg)],
                     name="6-minhash-cluster", tasks=1)
        final.append(MinhashDedupFilter(f"{work}/minhash/remove"))
    final.append(ContractWriter(cfg.stage_dir(), output_filename="${subset}/${rank}" + SHARD_SUFFIX))
    run_pipeline(cfg, final, name="7-filter")
    atomic_write(Path(cfg.stage_dir()) / "summary.json", json.dumps(summary(cfg), indent=1).encode())



def summary(cfg: StageConfig) -> dict:
    """Documents in, dropped per reason and step, out per subset (from the pipelines' stats)."""
    logs = Path(cfg.logs_dir())
    steps = step_totals(logs / "7-filter" / "stats.json")
    writer = steps.get(ContractWriter.name, {})
    out = {
        "documents_in": steps.get(ContractReader.name, {}).get("documents", 0),
        "dropped_bad_subset": steps.get(SubsetCheck.name, {}).get("dropped_bad_subset", 0),
        "dropped_exact_duplicates": steps.get(ExactDedupFilter.name, {}).get("dropped", 0),
        "dropped_near_duplicates": steps.get(MinhashDedupFilter.name, {}).get("dropped", 0),
        "documents_out": {k.split("/")[0]: v for k, v in sorted(writer.items()) if k.endswith(SHARD_SUFFIX)},
    }
    verify = step_totals(logs / "5-minhash-verify" / "stats.json").get(MinhashVerifyPairs.name)
    if verify is not None:
        out["lsh_pairs"] = {k: verify.get(k, 0) for k in ("candidate_pairs", "verified_pairs", "rejected_pairs")}
    return out
