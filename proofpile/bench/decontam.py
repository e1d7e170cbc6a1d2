"""Decontamination throughput with the full MATH test set (5,000 problems and solutions) as the index.

- ``decontam_throughput``: documents/s of reading contract shards and checking every document's 13-gram and
  30-gram hashes against the index, as a ratio to plain reading of the same shards with the same reader (1.0 would
  mean decontamination is free).
- ``decontam_vs_datatrove``: the same, as a ratio to datatrove's ``NGramsDecontFilter`` (13-grams only, a Python
  dict lookup per n-gram string hash; its spaCy word tokenizer is absent here, so our regex words are plugged in)
  with an index of the same MATH items built by datatrove's own ``compute_hashes``.

Needs ../shared/fixtures/benchmarks/math-test.jsonl; absent, no figure.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import orjson
import zstandard
from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter, NGramsDecontIndexer
from datatrove.utils.hashing import create_hash_func

from proofpile.bench import best_of, figure
from proofpile.contract import ContractReader
from proofpile.decontam.benchmarks import Benchmark, load_items
from proofpile.decontam.ngrams import NGramDecontamination, build_index
from proofpile.dedup.evaluate import planted_corpus
from proofpile.dedup.steps import MathWordTokenizer

MATH_TEST = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "benchmarks" / "math-test.jsonl"


def run(workdir: Path) -> list[dict]:
    if not MATH_TEST.is_file():
        return []
    docs = planted_corpus(1500, seed=3)
    shard = workdir / "docs" / "00000.jsonl.zst"
    shard.parent.mkdir(parents=True)
    records = [{"id": i, "text": t, "meta": {"subset": "open-web-math"}} for i, t in docs]
    shard.write_bytes(zstandard.ZstdCompressor().compress(b"".join(orjson.dumps(r) + b"\n" for r in records)))
    mbytes = sum(len(t.encode()) for _, t in docs) / 1e6
    build_index([Benchmark("math", str(MATH_TEST), ("problem", "solution"))], [13, 30], str(workdir / "index"))

    def read():
        for _ in ContractReader(str(workdir / "docs")).run():
            pass

    def decontaminate():
        step = NGramDecontamination(str(workdir / "index"), str(workdir / "hits"), n=13, report_n=30)
        step._load()  # the index is loaded once per task; time the documents
        for _ in step.run(ContractReader(str(workdir / "docs")).run()):
            pass

    # datatrove's filter, with an index from its own hashing code (its indexer class needs lighteval)
    dt_config = NGramsDecontConfig(n_grams=13, find_query_ngrams=True)
    indexer = SimpleNamespace(tokenizer=MathWordTokenizer(), config=dt_config,
                              hash_func=create_hash_func(dt_config.hash_config))
    items, _ = load_items(Benchmark("math", str(MATH_TEST), ("problem", "solution")))
    dt_hashes = set()
    for item in items:
        dt_hashes.update(NGramsDecontIndexer.compute_hashes(indexer, item["solution"], item["problem"]))
    (workdir / "dt-index").mkdir()
    np.array(sorted(dt_hashes), dtype=np.uint64).tofile(workdir / "dt-index" / "math.index.hashes")

    def datatrove_decontaminate():
        step = NGramsDecontFilter(str(workdir / "dt-index"), config=dt_config, language=MathWordTokenizer())
        step.load_index_hashes()
        for _ in step.run(ContractReader(str(workdir / "docs")).run()):
            pass

    t_read, t_decont = best_of(read), best_of(decontaminate)
    t_dt = best_of(datatrove_decontaminate, repeat=2)
    return [figure("decontam_vs_datatrove", t_dt / t_decont, "x", "datatrove NGramsDecontFilter (13-gram, same "
                   "MATH index, our words plugged in)", docs=len(docs), mbytes=round(mbytes, 2),
                   decontam_docs_per_s=round(len(docs) / t_decont, 1),
                   datatrove_docs_per_s=round(len(docs) / t_dt, 1)),
            figure("decontam_throughput", t_read / t_decont, "ratio", "plain reading of the same shards "
                   "(ContractReader)", docs=len(docs), mbytes=round(mbytes, 2), index="MATH test, 5,000 items",
                   decontam_docs_per_s=round(len(docs) / t_decont, 1),
                   decontam_mb_per_s=round(mbytes / t_decont, 2), read_docs_per_s=round(len(docs) / t_read, 1))]
